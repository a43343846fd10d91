// Package cluster gives the end-to-end tests and the demo a Kubernetes cluster with a node that
// runs pods, three ways: a kind cluster (where Docker runs privileged containers), a local
// cluster built from pinned sources in a namespace of its own (package node), or an existing
// cluster. Only their creation differs: the platform (Kyverno, the registry), the images and
// the tests are the same on all of them (package harness).
package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/platform-template/template-api/test/e2e/internal/images"
)

// Mode names one way of getting a cluster.
type Mode string

// The three modes E2E_CLUSTER chooses between.
const (
	ModeKind     Mode = "kind"
	ModeLocal    Mode = "local"
	ModeExisting Mode = "existing"
)

// Cluster is a running cluster whose node(s) run pods.
type Cluster interface {
	// Mode says which kind of cluster this is.
	Mode() Mode
	// Kubeconfig is the path of an admin kubeconfig.
	Kubeconfig() string
	// LoadImages puts images on the cluster's nodes without a registry: the images the
	// platform runs before any registry exists (local: imported into containerd; kind: kind
	// load). An existing cluster pulls its platform from upstream and refuses.
	LoadImages(ctx context.Context, imgs []images.Named) error
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

// existing is whatever KUBECONFIG points at, with Kyverno installed by its operator from
// k8s/platform/kyverno; the tests install nothing into it but the policies and the app.
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
func (e *existing) Stop(_ context.Context) error { return nil }

// Registry is the registry named by E2E_REGISTRY.
func (e *existing) Registry() string { return e.registry }

func (e *existing) LoadImages(context.Context, []images.Named) error {
	return fmt.Errorf("an existing cluster pulls its images from registries: install the platform from k8s/platform/kyverno")
}
