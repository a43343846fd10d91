package harness

import (
	"path/filepath"
	"testing"

	"github.com/platform-template/template-api/test/e2e/internal/cluster"
)

// TestBothModesGetTheRepositoryAuditPolicy: the local and the kind cluster are given the same
// file, the repository's k8s/cluster/audit-policy.yaml (what each does with it:
// cluster.TestAuditPolicyIsTheSameFileInBothModes).
func TestBothModesGetTheRepositoryAuditPolicy(t *testing.T) {
	root := t.TempDir()
	for _, detach := range []bool{false, true} {
		c := Config{Root: root, RunDir: filepath.Join(root, ".run", "e2e"), Detach: detach}
		want := filepath.Join(root, "k8s", "cluster", "audit-policy.yaml")
		if got := c.LocalOptions(nil).AuditPolicy; got != want {
			t.Errorf("local (detach %v): audit policy %q, want %q", detach, got, want)
		}
		if got := c.KindOptions(nil).AuditPolicy; got != want {
			t.Errorf("kind (detach %v): audit policy %q, want %q", detach, got, want)
		}
	}
	if cluster.AuditPolicyFile != "k8s/cluster/audit-policy.yaml" {
		t.Errorf("the policy moved to %s: update the docs that name it", cluster.AuditPolicyFile)
	}
}
