package harness

import (
	"path/filepath"
	"testing"

	"github.com/platform-template/template-api/test/e2e/internal/cluster"
)

// TestBothModesGetTheRepositoryAuditPolicy: the local and the kind cluster are given the same
// folder, the repository's k8s/cluster, whose audit-policy.yaml is the policy (what each does
// with it: cluster.TestAuditPolicyIsTheSameFileInBothModes).
func TestBothModesGetTheRepositoryAuditPolicy(t *testing.T) {
	root := t.TempDir()
	want := filepath.Join(root, "k8s", "cluster")
	for _, detach := range []bool{false, true} {
		c := Config{Root: root, RunDir: filepath.Join(root, ".run", "e2e"), Detach: detach}
		if got := c.LocalOptions(nil).ClusterConfig; got != want {
			t.Errorf("local (detach %v): cluster configuration %q, want %q", detach, got, want)
		}
		if got := c.KindOptions(nil).ClusterConfig; got != want {
			t.Errorf("kind (detach %v): cluster configuration %q, want %q", detach, got, want)
		}
		if got := c.AuditPolicy(); got != filepath.Join(want, "audit-policy.yaml") {
			t.Errorf("audit policy %q, want %s/audit-policy.yaml", got, want)
		}
	}
	if cluster.AuditPolicyFile != "audit-policy.yaml" {
		t.Errorf("the policy was renamed to %s: update the docs that name it", cluster.AuditPolicyFile)
	}
}
