package repo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRoot: the root is found from any folder below it, is the folder with k8s/, policies/ and
// go.mod, and a folder outside any repository is an error.
func TestRoot(t *testing.T) {
	root := MustRoot(t)
	for _, p := range []string{"k8s", "policies", "go.mod", "test/internal/repo"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Fatalf("root %s has no %s: %v", root, p, err)
		}
	}
	if got, err := rootAbove(filepath.Join(root, "test", "e2e", "guardrails")); err != nil || got != root {
		t.Fatalf("from test/e2e/guardrails: %q, %v; want %q", got, err, root)
	}
	if got, err := rootAbove(t.TempDir()); err == nil {
		t.Fatalf("a folder outside the repository found root %q", got)
	}
}

// TestTool: the variable make sets wins over .tools/bin; a missing tool fails the test (seen
// through a recording TB), with the make target that builds it.
func TestTool(t *testing.T) {
	root := MustRoot(t)
	t.Setenv("REPO_TEST_TOOL", "")
	if got, want := ToolPath(root, "REPO_TEST_TOOL", "x"), filepath.Join(root, ".tools", "bin", "x"); got != want {
		t.Fatalf("default: %q, want %q", got, want)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("REPO_TEST_TOOL", self)
	if got := Tool(t, "REPO_TEST_TOOL", "x", "tools"); got != self {
		t.Fatalf("from the variable: %q, want %q", got, self)
	}
	t.Setenv("REPO_TEST_TOOL", filepath.Join(t.TempDir(), "missing"))
	rec := &recorder{TB: t}
	func() {
		defer func() { _ = recover() }()
		Tool(rec, "REPO_TEST_TOOL", "missing-tool", "missing-tool-target")
	}()
	if !strings.Contains(rec.fatal, "missing-tool is not built") || !strings.Contains(rec.fatal, "make missing-tool-target") {
		t.Fatalf("a missing tool: %q", rec.fatal)
	}
}

// recorder stops a helper at its first Fatal and keeps the message.
type recorder struct {
	testing.TB
	fatal string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	panic("fatal")
}

func (r *recorder) Fatal(args ...any) {
	r.fatal = fmt.Sprint(args...)
	panic("fatal")
}
