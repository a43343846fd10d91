package terraform

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/platform-template/template-api/test/internal/repo"
)

// The red-team set of the Terraform guardrails lives beside the Rego, in policies/terraform/redteam:
// one folder per class of bypass, each with a secure base.tf (planned and admitted: the secure
// variant) and one file per attack. An attack file holds only what makes it bad: blocks that
// override the base (a file named *_override.tf, Terraform's own override mechanism) or resources
// added to it; or, with "# root:", an override or an addition to a real root module (an
// environment or the bootstrap), placed with "# into:" in one of its modules. Each is planned for
// real (real AWS provider, fake credentials, no API call) and must be refused exactly as its
// header says:
//
//	# want: <rule> <address>     a violation of the Rego policies (one line each; exact set)
//	# refused: <text>            the plan itself fails (a validation, precondition or
//	                             postcondition of the modules) with this text in its error
//	# admitted: <why>            a secure variant: no violation at all
//	# root: envs/production      plan this root module of the repository instead of base.tf
//	# into: modules/database     where the file goes, relative to terraform/ (default: the root)
//	# env: staging               the environment the plan is judged as (default: the root's; a
//	                             standalone case gets production's rules, not being an
//	                             environment's plan it needs no audit trail)
//	# var: name = <JSON>         a variable given at plan time (-var), as an attacker's tfvars
type redteamCase struct {
	class, name, file string
	attack            string
	want              []string
	refused           []string
	admitted          string
	root, into, env   string
	vars              map[string]any
}

const redteamDir = "policies/terraform/redteam"

var headerLine = regexp.MustCompile(`^#\s*(want|refused|admitted|root|into|env|var):\s*(.*?)\s*$`)

// redteamCases reads every case of policies/terraform/redteam, the bases first.
func redteamCases(t *testing.T, root string) []redteamCase {
	t.Helper()
	classes, err := os.ReadDir(filepath.Join(root, redteamDir))
	if err != nil {
		t.Fatal(err)
	}
	var cases []redteamCase
	for _, class := range classes {
		if !class.IsDir() {
			continue
		}
		files, err := filepath.Glob(filepath.Join(root, redteamDir, class.Name(), "*.tf"))
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(files)
		for _, f := range files {
			c, err := parseCase(class.Name(), f)
			if err != nil {
				t.Fatal(err)
			}
			cases = append(cases, c)
		}
	}
	return cases
}

func parseCase(class, file string) (redteamCase, error) {
	raw, err := os.ReadFile(file) // #nosec G304 -- a file of the repository's red-team set
	if err != nil {
		return redteamCase{}, err
	}
	c := redteamCase{class: class, name: strings.TrimSuffix(filepath.Base(file), ".tf"), file: file, vars: map[string]any{}}
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "#") {
			if strings.TrimSpace(line) != "" {
				break
			}
			continue
		}
		m := headerLine.FindStringSubmatch(line)
		if m == nil {
			if c.attack == "" {
				c.attack = strings.TrimSpace(strings.TrimPrefix(line, "#"))
			}
			continue
		}
		switch m[1] {
		case "want":
			if len(strings.Fields(m[2])) != 2 {
				return c, fmt.Errorf("%s: want: <rule> <address>, got %q", file, m[2])
			}
			c.want = append(c.want, strings.Join(strings.Fields(m[2]), " "))
		case "refused":
			c.refused = append(c.refused, m[2])
		case "admitted":
			c.admitted = m[2]
		case "root":
			c.root = m[2]
		case "into":
			c.into = m[2]
		case "env":
			c.env = m[2]
		case "var":
			name, value, ok := strings.Cut(m[2], "=")
			var v any
			if !ok || json.Unmarshal([]byte(strings.TrimSpace(value)), &v) != nil {
				return c, fmt.Errorf("%s: var: <name> = <JSON value>, got %q", file, m[2])
			}
			c.vars[strings.TrimSpace(name)] = v
		}
	}
	switch {
	case c.attack == "":
		return c, fmt.Errorf("%s: the first comment line says what the attack is", file)
	case c.name == "base" && (len(c.want)+len(c.refused) > 0 || c.admitted == ""):
		return c, fmt.Errorf("%s: a base is the secure variant: # admitted: <why>, no want or refused", file)
	case c.name != "base" && len(c.want)+len(c.refused) == 0 && c.admitted == "":
		return c, fmt.Errorf("%s: say how the case ends: # want:, # refused: or # admitted:", file)
	case c.admitted != "" && len(c.want)+len(c.refused) > 0:
		return c, fmt.Errorf("%s: admitted and refused at once", file)
	}
	if c.env == "" && strings.HasPrefix(c.root, "envs/") {
		c.env = strings.TrimPrefix(c.root, "envs/")
	}
	return c, nil
}

// harnessProvider makes a standalone case plannable offline: the provider with fake credentials.
const harnessProvider = `# Written by the red-team harness: the real AWS provider, fake credentials, no API call.
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "mock-access-key"
  secret_key                  = "mock-secret-key"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}
`

// stageCase lays the case out in a temporary folder and returns the root module to plan.
func stageCase(t *testing.T, root string, c redteamCase) string {
	t.Helper()
	src, err := os.ReadFile(c.file)
	if err != nil {
		t.Fatal(err)
	}
	name := "zz_redteam.tf"
	if strings.HasSuffix(c.name, "_override") {
		name = "zz_redteam_override.tf"
	}
	if c.root != "" {
		dir := stage(t, root, "terraform/"+c.root)
		into := dir
		if c.into != "" {
			into = filepath.Join(dir, "..", "..", c.into)
			if c.root == "bootstrap" {
				into = filepath.Join(dir, "..", c.into)
			}
		}
		if _, err := os.Stat(into); err != nil {
			t.Fatalf("into: %s: %v", c.into, err)
		}
		if err := os.WriteFile(filepath.Join(into, name), src, 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	dir := t.TempDir()
	base, err := os.ReadFile(filepath.Join(filepath.Dir(c.file), "base.tf"))
	if err != nil {
		t.Fatalf("the class %s has no base.tf: %v", c.class, err)
	}
	files := map[string][]byte{"base.tf": base, "zz_harness.tf": []byte(harnessProvider)}
	if c.name != "base" {
		files[name] = src
	}
	for f, b := range files {
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestRedTeamPlansRefused plans every attack of policies/terraform/redteam and asserts the refusal
// it promises, by rule name and address (or by the module's own refusal); every base (the secure
// variant of its class) is admitted. Run one class with -run 'TestRedTeamPlansRefused/<class>/'.
func TestRedTeamPlansRefused(t *testing.T) {
	requireTerraform(t)
	root := repo.MustRoot(t)
	cases := redteamCases(t, root)
	insecure := 0
	for _, c := range cases {
		if c.admitted == "" {
			insecure++
		}
	}
	if insecure < 60 {
		t.Errorf("%d insecure plans in %s: the set keeps at least 60", insecure, redteamDir)
	}
	t.Logf("%d red-team plans: %d attacks, %d secure variants", len(cases), insecure, len(cases)-insecure)
	for _, c := range cases {
		t.Run(c.class+"/"+c.name, func(t *testing.T) {
			t.Parallel()
			dir := stageCase(t, root, c)
			var vars map[string]any
			if c.root != "" {
				vars = map[string]any{"account_id": testAccountID}
			}
			for k, v := range c.vars {
				if vars == nil {
					vars = map[string]any{}
				}
				vars[k] = v
			}
			plan, err := planJSON(t, root, dir, vars)
			if len(c.refused) > 0 {
				if err == nil {
					t.Fatalf("%s\nthe plan succeeded; want it refused with %q", c.attack, c.refused)
				}
				got := strings.Join(strings.Fields(err.Error()), " ")
				for _, r := range c.refused {
					if !strings.Contains(got, r) {
						t.Errorf("%s\nrefused for another reason; want %q in:\n%v", c.attack, r, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("%s\nthe plan must succeed so the policies can judge it: %v", c.attack, err)
			}
			vs, err := violations(context.Background(), t, plan, c.env)
			if err != nil {
				t.Fatal(err)
			}
			assertRefusedBy(t, vs, c.want)
		})
	}
}
