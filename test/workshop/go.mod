// The workshop's labs (docs/workshop) run for real: each lab's break applied to a scratch copy
// of the repository and refused with the message the lab quotes. Standard library only.
module github.com/platform-template/template-api/test/workshop

go 1.26
