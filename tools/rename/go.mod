// The one-step rename of the template (make rename): standard library only.
module github.com/platform-template/template-api/tools/rename

go 1.26
