package main

import (
	"bytes"
	"crypto/sha256"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/platform-template/template-api/tools/rename/internal/treetest"
)

// fixture is a miniature of the template: the three files the current identity is read from,
// plus a Go file, a workflow and a Terraform file that name it.
func fixture(t *testing.T) string {
	t.Helper()
	return treetest.Write(t, map[string]string{
		"go.mod":                                  "module example.com/org/widget\n\ngo 1.26\n",
		"k8s/base/deployment.yaml":                "metadata:\n  name: widget\n  labels:\n    app.kubernetes.io/name: widget\n",
		"k8s/overlays/kind/db.yaml":               "apiVersion: v1\nkind: Service\nmetadata:\n  labels:\n    app.kubernetes.io/name: postgres\n  name: postgres",
		"terraform/modules/identity/variables.tf": "variable \"github_repository\" {\n  default = \"example-org/widget\"\n}\n",
		"src/main.go":                             "package main\n\nimport _ \"example.com/org/widget/src/x\"\n\nconst name = \"widget\"\n",
		".github/workflows/deploy.yaml":           "run: kubectl -n widget rollout status deployment/widget\n",
		"terraform/envs/main.tf":                  "locals {\n  name = \"widget-${local.environment}\"\n}\n",
	})
}

// snapshot maps every file of a tree to its content hash.
func snapshot(t *testing.T, root string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = sha256.Sum256(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRunRefusesBadArgumentsBeforeChangingAnything(t *testing.T) {
	root := fixture(t)
	before := snapshot(t, root)
	cases := []struct {
		name    string
		args    []string
		refusal string
		// validated: refused by the argument checks, whose message says nothing was changed
		validated bool
	}{
		{"no arguments", nil, "MODULE is empty", true},
		{"not a module path", []string{"-module", "payments", "-name", "payments"}, `MODULE "payments" is not a Go module path`, true},
		{"name Kubernetes refuses", []string{"-module", "github.com/acme/payments", "-name", "Payments_API"}, `NAME "Payments_API" is not a name Kubernetes accepts`, true},
		{"non-GitHub module without repo", []string{"-module", "example.com/payments", "-name", "payments"}, "REPO=owner/name", true},
		{"the name of another object of the namespace", []string{"-module", "github.com/acme/payments", "-name", "postgres"}, `NAME "postgres" would name the app's objects like others of its namespace (postgres is taken)`, true},
		{"unknown flag", []string{"-modul", "x"}, "flag provided but not defined", false},
		{"stray argument", []string{"-module", "github.com/acme/payments", "-name", "payments", "extra"}, `unexpected argument "extra"`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(append([]string{"-root", root}, tc.args...), &out)
			var usage usageError
			if err == nil || !strings.Contains(err.Error(), tc.refusal) {
				t.Fatalf("got %v; want a refusal with %q", err, tc.refusal)
			}
			if tc.validated && !strings.Contains(err.Error(), "nothing was changed") {
				t.Errorf("the refusal does not say that nothing was changed: %v", err)
			}
			if !asUsage(err, &usage) {
				t.Errorf("%v is not a usage error (exit status 2)", err)
			}
			if after := snapshot(t, root); !reflect.DeepEqual(before, after) {
				t.Fatal("the tree changed")
			}
		})
	}
	t.Run("not the template's root", func(t *testing.T) {
		err := run([]string{"-root", t.TempDir(), "-module", "github.com/acme/payments", "-name", "payments"}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "root of a copy of the template") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestRunRenamesIdempotentlyAndAgain(t *testing.T) {
	root := fixture(t)
	var out bytes.Buffer
	if err := run([]string{"-root", root, "-module", "github.com/acme/payments", "-name", "payments"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "6 files rewritten") {
		t.Errorf("summary: %s", out.String())
	}
	b, _ := os.ReadFile(filepath.Join(root, ".github/workflows/deploy.yaml"))
	if string(b) != "run: kubectl -n payments rollout status deployment/payments\n" {
		t.Errorf("workflow: %q", b)
	}
	b, _ = os.ReadFile(filepath.Join(root, "terraform/modules/identity/variables.tf"))
	if !strings.Contains(string(b), `"acme/payments"`) {
		t.Errorf("repository: %q", b)
	}
	renamed := snapshot(t, root)

	out.Reset()
	if err := run([]string{"-root", root, "-module", "github.com/acme/payments", "-name", "payments"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "nothing to change") {
		t.Errorf("second run: %s", out.String())
	}
	if !reflect.DeepEqual(renamed, snapshot(t, root)) {
		t.Fatal("the second run changed the tree")
	}

	// dry run writes nothing
	out.Reset()
	if err := run([]string{"-root", root, "-module", "gitlab.example.com/fin/billing", "-repo", "fin/billing", "-name", "billing", "-dry-run"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "nothing written") || !reflect.DeepEqual(renamed, snapshot(t, root)) {
		t.Fatalf("dry run: %s", out.String())
	}

	// a renamed copy renames again, from its current names
	if err := run([]string{"-root", root, "-module", "gitlab.example.com/fin/billing", "-repo", "fin/billing", "-name", "billing"}, &out); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(filepath.Join(root, "src/main.go"))
	if string(b) != "package main\n\nimport _ \"gitlab.example.com/fin/billing/src/x\"\n\nconst name = \"billing\"\n" {
		t.Errorf("main.go after the second rename: %q", b)
	}
}

func asUsage(err error, target *usageError) bool {
	u, ok := err.(usageError)
	if ok {
		*target = u
	}
	return ok
}
