package terraform

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/gruntwork-io/terratest/modules/logger"
	tt "github.com/gruntwork-io/terratest/modules/terraform"

	"github.com/platform-template/template-api/test/e2e/terraform/policy"
)

const (
	// The filesystem mirror of the AWS provider on offline machines (see terraform/offline.tfrc).
	mirrorDir     = "/opt/tf-plugins"
	testAccountID = "111111111111"
)

// offlineOverride is written next to every planned root module (in a temporary copy): a local
// backend, fake credentials and the provider's skip flags, so that a plan makes no API call.
const offlineOverride = `# Written by the Terratest suite: plan offline, fake credentials, no API call.
terraform {
  backend "local" {}
}

provider "aws" {
  access_key                  = "mock-access-key"
  secret_key                  = "mock-secret-key"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  allowed_account_ids         = null
}
`

// requireTerraform fails (never skips) when terraform is missing: this suite is part of make test.
func requireTerraform(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("terraform"); err != nil {
		t.Fatalf("terraform (>= 1.11) is not on PATH; the Terraform suite cannot run without it: %v", err)
	}
}

// terraformEnv points Terraform at the offline provider mirror when it exists and the caller did
// not configure one; with internet access the registry is used.
func terraformEnv(root string) map[string]string {
	env := map[string]string{"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
	if cfg := os.Getenv("TF_CLI_CONFIG_FILE"); cfg != "" {
		if _, err := os.Stat(cfg); err == nil {
			return env
		}
	}
	if _, err := os.Stat(filepath.Join(mirrorDir, "registry.terraform.io")); err == nil {
		env["TF_CLI_CONFIG_FILE"] = filepath.Join(root, "terraform", "offline.tfrc")
	}
	return env
}

// stage copies terraform/ and the named fixture (if any) into a temporary tree with the
// repository's layout, so relative module sources resolve, and adds the offline override to the
// root module at rel. Nothing is written into the work tree.
func stage(t *testing.T, root, rel string) string {
	t.Helper()
	dst := t.TempDir()
	dirs := []string{"terraform"}
	if strings.HasPrefix(rel, "test/") {
		dirs = append(dirs, rel)
	}
	for _, d := range dirs {
		if err := copyTree(filepath.Join(root, d), filepath.Join(dst, d)); err != nil {
			t.Fatalf("copy %s: %v", d, err)
		}
	}
	dir := filepath.Join(dst, rel)
	if err := os.WriteFile(filepath.Join(dir, "zz_offline_override.tf"), []byte(offlineOverride), 0o644); err != nil {
		t.Fatalf("write override: %v", err)
	}
	return dir
}

// copyTree copies regular files, leaving out Terraform's local state and caches.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if name == ".terraform" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() || strings.Contains(name, ".tfstate") || strings.HasSuffix(name, ".tfplan") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
}

// planJSON runs terraform init, plan -out and show -json in dir and returns the parsed plan, or
// the error of the first step that failed (its message holds Terraform's stderr).
func planJSON(t *testing.T, root, dir string, vars map[string]any) (map[string]any, error) {
	t.Helper()
	opts := &tt.Options{
		TerraformDir: dir,
		Vars:         vars,
		NoColor:      true,
		PlanFilePath: filepath.Join(dir, "plan.tfplan"),
		EnvVars:      terraformEnv(root),
		Logger:       logger.Discard,
	}
	if _, err := tt.InitAndPlanE(t, opts); err != nil {
		return nil, fmt.Errorf("terraform plan in %s: %w", dir, err)
	}
	out, err := tt.ShowE(t, opts)
	if err != nil {
		return nil, fmt.Errorf("terraform show -json in %s: %w", dir, err)
	}
	var plan map[string]any
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		return nil, fmt.Errorf("parse plan JSON of %s: %w", dir, err)
	}
	return plan, nil
}

// engine compiles the policies of policies/terraform once for the whole suite.
var engine = sync.OnceValues(func() (*policy.Engine, error) {
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		return nil, err
	}
	return policy.Load(context.Background(), filepath.Join(root, "policies", "terraform"))
})

// violations judges a plan with the policies of policies/terraform, for env ("" = production's
// rules) in the test account.
func violations(ctx context.Context, t *testing.T, plan map[string]any, env string) ([]policy.Violation, error) {
	t.Helper()
	e, err := engine()
	if err != nil {
		return nil, err
	}
	return e.Evaluate(ctx, plan, policy.Params{Environment: env, AccountID: testAccountID})
}

// denials is violations as "rule: address: message" strings, sorted.
func denials(ctx context.Context, t *testing.T, plan map[string]any, env string) ([]string, error) {
	t.Helper()
	vs, err := violations(ctx, t, plan, env)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		out = append(out, v.String())
	}
	return out, nil
}

// change is one entry of the plan's resource_changes.
type change struct {
	Address string
	Type    string
	Actions []string
	After   map[string]any
	Unknown map[string]any
}

func changes(t *testing.T, plan map[string]any) []change {
	t.Helper()
	raw, err := json.Marshal(plan["resource_changes"])
	if err != nil {
		t.Fatalf("resource_changes: %v", err)
	}
	var rcs []struct {
		Address string `json:"address"`
		Mode    string `json:"mode"`
		Type    string `json:"type"`
		Change  struct {
			Actions      []string       `json:"actions"`
			After        map[string]any `json:"after"`
			AfterUnknown map[string]any `json:"after_unknown"`
		} `json:"change"`
	}
	if err := json.Unmarshal(raw, &rcs); err != nil {
		t.Fatalf("resource_changes: %v", err)
	}
	var out []change
	for _, rc := range rcs {
		if rc.Mode != "managed" {
			continue
		}
		out = append(out, change{rc.Address, rc.Type, rc.Change.Actions, rc.Change.After, rc.Change.AfterUnknown})
	}
	return out
}

func ofType(cs []change, typ string) []change {
	var out []change
	for _, c := range cs {
		if c.Type == typ {
			out = append(out, c)
		}
	}
	return out
}

// one returns the change at address, failing the test when it is not planned.
func one(t *testing.T, cs []change, address string) change {
	t.Helper()
	for _, c := range cs {
		if c.Address == address {
			return c
		}
	}
	t.Fatalf("%s is not in the plan", address)
	return change{}
}

func (c change) unknown(attr string) bool {
	v, ok := c.Unknown[attr].(bool)
	return ok && v
}

// list returns a nested block or list attribute as a slice of objects.
func (c change) list(attr string) []map[string]any {
	raw, _ := c.After[attr].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, r := range raw {
		if m, ok := r.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func strs(v any) []string {
	raw, _ := v.([]any)
	out := make([]string, 0, len(raw))
	for _, r := range raw {
		if s, ok := r.(string); ok {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// policyDoc parses an IAM JSON document attribute; ok is false when it is unknown at plan time.
func policyDoc(t *testing.T, c change, attr string) (doc map[string]any, ok bool) {
	t.Helper()
	s, isString := c.After[attr].(string)
	if !isString {
		return nil, false
	}
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		t.Fatalf("%s.%s is not JSON: %v", c.Address, attr, err)
	}
	return doc, true
}

// assertRefusedBy checks that the violations are exactly want ("rule address" each, any order),
// and that each says why.
func assertRefusedBy(t *testing.T, vs []policy.Violation, want []string) {
	t.Helper()
	got := make([]string, 0, len(vs))
	for _, v := range vs {
		got = append(got, v.Rule+" "+v.Address)
		if strings.TrimSpace(v.Message) == "" {
			t.Errorf("%s on %s gives no reason", v.Rule, v.Address)
		}
	}
	sort.Strings(got)
	want = append([]string{}, want...)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		var all strings.Builder
		for _, v := range vs {
			all.WriteString("\n  " + v.String())
		}
		t.Errorf("refused by:\n got %q\nwant %q\nviolations:%s", got, want, all.String())
	}
}
