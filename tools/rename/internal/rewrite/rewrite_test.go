package rewrite

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/platform-template/template-api/tools/rename/internal/identity"
	"github.com/platform-template/template-api/tools/rename/internal/treetest"
)

var (
	from = identity.Identity{Module: "example.com/org/widget", Name: "widget", Repo: "example-org/widget"}
	to   = identity.Identity{Module: "github.com/acme/payments", Name: "payments", Repo: "acme/payments.api"}
)

func TestPairs(t *testing.T) {
	got := Pairs(from, to)
	want := []Pair{
		{"https://github.com/example-org/widget", "https://github.com/acme/payments.api"},
		{`github\.com/example-org/widget`, `github\.com/acme/payments\.api`},
		{"example.com/org/widget", "github.com/acme/payments"},
		{"example-org/widget", "acme/payments.api"},
		{"example-org/*", "acme/*"},
		{"widget", "payments"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pairs:\n got %q\nwant %q", got, want)
	}
	if p := Pairs(from, from); len(p) != 0 {
		t.Fatalf("renaming to the current identity plans %q; want nothing", p)
	}
}

func TestReplace(t *testing.T) {
	pairs := Pairs(from, to)
	cases := []struct{ in, want string }{
		{"module example.com/org/widget\n", "module github.com/acme/payments\n"},
		{`import "example.com/org/widget/src/x"`, `import "github.com/acme/payments/src/x"`},
		{"namespace: widget\nname: widget-db\n", "namespace: payments\nname: payments-db\n"},
		{"image: 127.0.0.1:5001/widget:v1", "image: 127.0.0.1:5001/payments:v1"},
		{"generated-widget.yaml", "generated-payments.yaml"},
		// whole tokens only: a longer word holding the name is left alone
		{"widgets widget_id mywidget widget2", "widgets widget_id mywidget widget2"},
		{"repo:example-org/widget:ref:refs/heads/main", "repo:acme/payments.api:ref:refs/heads/main"},
		{"repo:example-org/*", "repo:acme/*"},
		{`subjectRegExp: '^https://github\.com/example-org/widget/\.github/workflows/x\.yaml@refs/heads/main$'`,
			`subjectRegExp: '^https://github\.com/acme/payments\.api/\.github/workflows/x\.yaml@refs/heads/main$'`},
		{"see https://github.com/example-org/widget/actions", "see https://github.com/acme/payments.api/actions"},
		// the label domain of the platform is not the app's name
		{"example-org.io/environment: production", "example-org.io/environment: production"},
		{"nothing to see", "nothing to see"},
	}
	for _, tc := range cases {
		got, _ := Replace(tc.in, pairs)
		if got != tc.want {
			t.Errorf("Replace(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
		// one pass: the result holds no old token that a second pass would change
		if again, n := Replace(got, Pairs(to, to)); again != got || n != 0 {
			t.Errorf("a second rename changed %q", got)
		}
	}
	// a new name holding the old one is not replaced again
	grow := Pairs(from, identity.Identity{Module: "example.com/org/widget-v2", Name: "widget-v2", Repo: "example-org/widget-v2"})
	if got, _ := Replace("widget example.com/org/widget", grow); got != "widget-v2 example.com/org/widget-v2" {
		t.Errorf("growing rename: %q", got)
	}
}

func TestBinary(t *testing.T) {
	for in, want := range map[string]bool{"text\n": false, "a\x00b": true, "\xff\xfe": true, "": false, "héllo": false} {
		if got := Binary([]byte(in)); got != want {
			t.Errorf("Binary(%q) = %v, want %v", in, got, want)
		}
	}
}

func read(t *testing.T, root, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMakeAndApply(t *testing.T) {
	binary := "widget\x00\x01example.com/org/widget"
	root := treetest.Write(t, map[string]string{
		"go.mod": "module example.com/org/widget\n\ngo 1.26\n",
		"go.sum": "example.com/org/widget v1.0.0 h1:x\n",
		"src/main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/org/widget/src/b\"\n\t\"example.com/org/widget/src/a\"\n\t\"github.com/zzz/lib\"\n)\n\n" +
			"var _, _, _ = fmt.Sprint, a.X, b.X\n\nconst service = \"widget\"\n",
		"k8s/generated-widget.yaml": "name: widget\n",
		"scripts/run.sh":            "#!/bin/sh\necho widget\n",
		"bin/api":                   "widget",
		".git/config":               "widget",
		".tools/bin/x":              "widget",
		".run/state":                "widget",
		"tf/.terraform/x":           "widget",
		"blob.bin":                  binary,
		"README.md":                 "no names here\n",
	})
	plan, err := Make(root, Pairs(from, to))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range plan.Edits {
		paths = append(paths, e.Path+"->"+e.NewPath)
	}
	want := []string{"go.mod->go.mod", "k8s/generated-widget.yaml->k8s/generated-payments.yaml", "scripts/run.sh->scripts/run.sh", "src/main.go->src/main.go"}
	if !reflect.DeepEqual(paths, want) {
		t.Fatalf("planned %q, want %q", paths, want)
	}
	if plan.Skipped != 1 {
		t.Errorf("skipped %d binary files, want 1", plan.Skipped)
	}
	if got := read(t, root, "go.mod"); !strings.Contains(got, "example.com/org/widget") {
		t.Fatalf("Make wrote go.mod before Apply: %q", got)
	}
	if err := plan.Apply(); err != nil {
		t.Fatal(err)
	}
	if got := read(t, root, "go.mod"); got != "module github.com/acme/payments\n\ngo 1.26\n" {
		t.Errorf("go.mod: %q", got)
	}
	// imports renamed and sorted again by gofmt (go/format)
	wantGo := "package main\n\nimport (\n\t\"fmt\"\n\n\t\"github.com/acme/payments/src/a\"\n\t\"github.com/acme/payments/src/b\"\n\t\"github.com/zzz/lib\"\n)\n\n" +
		"var _, _, _ = fmt.Sprint, a.X, b.X\n\nconst service = \"payments\"\n"
	if got := read(t, root, "src/main.go"); got != wantGo {
		t.Errorf("src/main.go:\n%s\nwant:\n%s", got, wantGo)
	}
	if _, err := os.Stat(filepath.Join(root, "k8s", "generated-widget.yaml")); !os.IsNotExist(err) {
		t.Errorf("the old path is still there (err %v)", err)
	}
	if got := read(t, root, "k8s/generated-payments.yaml"); got != "name: payments\n" {
		t.Errorf("moved file: %q", got)
	}
	if fi, err := os.Stat(filepath.Join(root, "scripts", "run.sh")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("run.sh lost its mode: %v %v", fi.Mode(), err)
	}
	for rel, want := range map[string]string{"go.sum": "example.com/org/widget v1.0.0 h1:x\n", "bin/api": "widget",
		".git/config": "widget", ".tools/bin/x": "widget", ".run/state": "widget", "tf/.terraform/x": "widget", "blob.bin": binary} {
		if got := read(t, root, rel); got != want {
			t.Errorf("%s was changed to %q", rel, got)
		}
	}
	// renaming again plans nothing
	again, err := Make(root, Pairs(to, to))
	if err != nil || len(again.Edits) != 0 {
		t.Fatalf("a second rename plans %d edits (%v)", len(again.Edits), err)
	}
}

func TestMakeRefusesBeforeWriting(t *testing.T) {
	t.Run("Go file that no longer parses", func(t *testing.T) {
		root := treetest.Write(t, map[string]string{"go.mod": "module example.com/org/widget\n", "x.go": "package widget\n"})
		// "package widget" becomes "package payments": fine; a name that is not an identifier is not
		ids := []Pair{{"widget", "pay-ments"}}
		if _, err := Make(root, ids); err == nil || !strings.Contains(err.Error(), "gofmt x.go") {
			t.Fatalf("want a gofmt error naming x.go, got %v", err)
		}
		if got := read(t, root, "go.mod"); got != "module example.com/org/widget\n" {
			t.Fatalf("go.mod was written: %q", got)
		}
	})
	t.Run("move onto an existing file", func(t *testing.T) {
		root := treetest.Write(t, map[string]string{"a-widget.txt": "x", "a-payments.txt": "y"})
		if _, err := Make(root, Pairs(from, to)); err == nil || !strings.Contains(err.Error(), "exists already") {
			t.Fatalf("want a conflict error, got %v", err)
		}
	})
}
