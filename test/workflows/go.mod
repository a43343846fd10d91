module github.com/platform-template/template-api/test/workflows

go 1.26

require gopkg.in/yaml.v3 v3.0.1
