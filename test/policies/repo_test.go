package policies_test

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/platform-template/template-api/test/policies/internal/kyverno"
)

// repoRoot is the repository root, found from this file's path.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot find the test's own path")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func policiesDir(t *testing.T) string {
	return filepath.Join(repoRoot(t), "policies", "kyverno")
}

// cli returns the pinned Kyverno CLI or fails the test (never skips): make test-policies
// builds it and sets KYVERNO_BIN.
func cli(t *testing.T) kyverno.CLI {
	t.Helper()
	c, err := kyverno.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
