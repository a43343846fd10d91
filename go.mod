module github.com/platform-template/template-api

go 1.26
