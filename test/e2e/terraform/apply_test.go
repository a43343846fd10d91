package terraform

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gruntwork-io/terratest/modules/random"
	tt "github.com/gruntwork-io/terratest/modules/terraform"

	"github.com/platform-template/template-api/test/internal/repo"
)

// TestApplyRegistryInAWS applies the registry module to a real AWS account, checks the created
// repository in the state, and destroys it. Opt-in (make terratest-aws): it needs credentials and
// creates billable resources (an ECR repository and a KMS key, scheduled for deletion on destroy).
func TestApplyRegistryInAWS(t *testing.T) {
	if os.Getenv("TERRATEST_AWS_APPLY") != "1" {
		t.Skip("opt-in, needs an AWS account: set TERRATEST_AWS_APPLY=1, TERRATEST_AWS_ACCOUNT_ID and AWS_REGION with credentials (make terratest-aws)")
	}
	requireTerraform(t)
	root := repo.MustRoot(t)
	account, region := os.Getenv("TERRATEST_AWS_ACCOUNT_ID"), os.Getenv("AWS_REGION")
	if account == "" || region == "" {
		t.Fatal("TERRATEST_AWS_ACCOUNT_ID and AWS_REGION must be set")
	}

	dst := t.TempDir()
	if err := copyTree(filepath.Join(root, "terraform"), filepath.Join(dst, "terraform")); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(dst, "apply")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	name := "terratest-" + strings.ToLower(random.UniqueId())
	mainTF := fmt.Sprintf(`terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

provider "aws" {
  region              = %q
  allowed_account_ids = [%q]
}

module "registry" {
  source          = "../terraform/modules/registry"
  repository_name = %q
  account_id      = %q
}

output "repository_url" {
  value = module.registry.repository_url
}
`, region, account, name, account)
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(mainTF), 0o644); err != nil {
		t.Fatal(err)
	}

	opts := &tt.Options{TerraformDir: dir, NoColor: true, EnvVars: terraformEnv(root)}
	defer tt.Destroy(t, opts)
	tt.InitAndApply(t, opts)

	wantURL := fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s", account, region, name)
	if got := tt.Output(t, opts, "repository_url"); got != wantURL {
		t.Errorf("repository_url = %q, want %q", got, wantURL)
	}
	var state struct {
		Values struct {
			RootModule struct {
				ChildModules []struct {
					Resources []struct {
						Address string         `json:"address"`
						Values  map[string]any `json:"values"`
					} `json:"resources"`
				} `json:"child_modules"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal([]byte(tt.Show(t, opts)), &state); err != nil {
		t.Fatalf("parse state: %v", err)
	}
	found := false
	for _, m := range state.Values.RootModule.ChildModules {
		for _, r := range m.Resources {
			if r.Address != "module.registry.aws_ecr_repository.this" {
				continue
			}
			found = true
			if r.Values["image_tag_mutability"] != "IMMUTABLE" {
				t.Errorf("image_tag_mutability = %v", r.Values["image_tag_mutability"])
			}
		}
	}
	if !found {
		t.Error("the repository is not in the state")
	}
}
