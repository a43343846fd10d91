package policies_test

import (
	"path/filepath"
	"testing"

	"github.com/platform-template/template-api/test/internal/repo"
	"github.com/platform-template/template-api/test/policies/internal/kyverno"
)

func policiesDir(t *testing.T) string {
	return filepath.Join(repo.MustRoot(t), "policies", "kyverno")
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
