package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/platform-template/template-api/test/e2e/internal/cluster"
)

// ErrNoAuditLog: the cluster's audit log is not ours to read (an existing cluster: its
// operator's, e.g. EKS's in CloudWatch).
var ErrNoAuditLog = errors.New("this cluster's audit log is its operator's (E2E_CLUSTER=existing): not read by the tests")

// AuditPolicy is the repository's audit policy file, in the k8s/cluster folder both cluster
// modes are given.
func (c Config) AuditPolicy() string {
	return filepath.Join(c.ClusterConfig(), cluster.AuditPolicyFile)
}

// auditLogger is a cluster whose API server writes the audit log this repository configures.
type auditLogger interface {
	AuditLog(ctx context.Context) (io.ReadCloser, error)
}

// AuditLog opens the cluster's audit log (every file, oldest first).
func (e *Env) AuditLog(ctx context.Context) (io.ReadCloser, error) {
	a, ok := e.Cluster.(auditLogger)
	if !ok {
		return nil, ErrNoAuditLog
	}
	r, err := a.AuditLog(ctx)
	if err != nil {
		return nil, fmt.Errorf("open the %s cluster's audit log: %w", e.Cluster.Mode(), err)
	}
	return r, nil
}
