// Package cluster gives the end-to-end tests a Kubernetes API server with the guardrails
// installed, three ways: a kind cluster (where Docker runs), a local control plane built from
// pinned sources (etcd, kube-apiserver, Kyverno as local processes), or an existing cluster.
package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Mode names one way of getting a cluster.
type Mode string

// The three modes E2E_CLUSTER chooses between.
const (
	ModeKind     Mode = "kind"
	ModeLocal    Mode = "local"
	ModeExisting Mode = "existing"
)

// Cluster is a running API server with Kyverno answering its admission webhooks.
type Cluster interface {
	// Mode says which kind of cluster this is.
	Mode() Mode
	// Kubeconfig is the path of an admin kubeconfig.
	Kubeconfig() string
	// RunsPods is true where a kubelet runs containers (kind, existing); the local control
	// plane only makes admission decisions.
	RunsPods() bool
	// Registry is the registry address (host:port) that both the tests push to and the
	// cluster's image references name.
	Registry() string
	// Stop stops everything this cluster started, each process by its PID.
	Stop(ctx context.Context) error
}

// Logf prints a progress line.
type Logf func(format string, args ...any)

// SelectMode reads E2E_CLUSTER; without it, kind when `docker info` answers, else local.
func SelectMode(ctx context.Context, getenv func(string) string) (Mode, string, error) {
	switch m := Mode(strings.TrimSpace(getenv("E2E_CLUSTER"))); m {
	case ModeKind, ModeLocal, ModeExisting:
		return m, "E2E_CLUSTER=" + string(m), nil
	case "":
		if err := DockerAnswers(ctx); err != nil {
			return ModeLocal, "no container engine (" + err.Error() + ")", nil
		}
		return ModeKind, "docker answers", nil
	default:
		return "", "", fmt.Errorf("E2E_CLUSTER=%q: want kind, local or existing", m)
	}
}

// DockerAnswers runs `docker info` with a short timeout.
func DockerAnswers(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := exec.LookPath("docker"); err != nil {
		return fmt.Errorf("no docker on PATH")
	}
	out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if i := strings.LastIndex(msg, "\n"); i >= 0 {
			msg = msg[i+1:]
		}
		return fmt.Errorf("docker info: %s", msg)
	}
	return nil
}

// existing is whatever KUBECONFIG points at; the tests install nothing into it but the policies.
type existing struct {
	kubeconfig, registry string
}

// Existing uses $KUBECONFIG (or ~/.kube/config) and the registry named by E2E_REGISTRY.
func Existing(getenv func(string) string) (Cluster, error) {
	kc := getenv("KUBECONFIG")
	if kc == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("no KUBECONFIG and no home folder: %w", err)
		}
		kc = home + "/.kube/config"
	}
	if _, err := os.Stat(kc); err != nil {
		return nil, fmt.Errorf("E2E_CLUSTER=existing needs a kubeconfig: %w", err)
	}
	reg := getenv("E2E_REGISTRY")
	if reg == "" {
		return nil, fmt.Errorf("E2E_CLUSTER=existing needs E2E_REGISTRY, a registry the cluster pulls from and the tests can push to")
	}
	return &existing{kubeconfig: kc, registry: reg}, nil
}

func (e *existing) Mode() Mode                   { return ModeExisting }
func (e *existing) Kubeconfig() string           { return e.kubeconfig }
func (e *existing) RunsPods() bool               { return true }
func (e *existing) Registry() string             { return e.registry }
func (e *existing) Stop(_ context.Context) error { return nil }
