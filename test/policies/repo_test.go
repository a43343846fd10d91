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

// cli returns the pinned Kyverno CLI (KYVERNO_BIN, which make test-policies sets, else
// .tools/bin) or fails the test, never skips it.
func cli(t *testing.T) kyverno.CLI {
	t.Helper()
	return kyverno.CLI{Path: repo.Tool(t, "KYVERNO_BIN", "kyverno", "test-policies")}
}
