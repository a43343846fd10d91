// Package harness brings up everything the end-to-end tests and the demo need, on whichever
// cluster the machine allows: the cluster, the run's signing key and images, the policies with
// that key, and (once) the app's overlay. Tests and demo share it, so the demo shows exactly
// what the tests prove.
package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/platform-template/template-api/test/e2e/internal/cluster"
	"github.com/platform-template/template-api/test/e2e/internal/kube"
	"github.com/platform-template/template-api/test/e2e/internal/manifests"
	"github.com/platform-template/template-api/test/e2e/internal/release"
	"github.com/platform-template/template-api/test/e2e/internal/scenario"
)

// Config says where things are. Zero values are filled from the environment by FromEnv.
type Config struct {
	Root          string // repository root
	RunDir        string // state of this run (certificates, logs, rendered overlays)
	ToolsBin      string // built tools (etcd, kube-apiserver, kyverno-*)
	KyvernoSource string // Kyverno's module folder (CRDs, ConfigMaps)
	ServiceBinary string // static service binary, laid out as the image's /api
	Mode          cluster.Mode
	ModeReason    string
	Detach        bool     // the demo: processes outlive the program
	RegistryCmd   []string // the demo: run the registry as this process
	// Release, when set, is a folder `make release` kept (.run/release): its image, with its
	// signature and attestations, is the app's image, and its key the one the policies trust.
	Release string
	Log     cluster.Logf
}

// FromEnv fills a Config from E2E_* variables with defaults relative to the repository.
//
//	E2E_CLUSTER        kind | local | existing (default: kind if `docker info` answers, else local)
//	E2E_RUN_DIR        state folder (default <root>/.run/e2e)
//	E2E_TOOLS_BIN      built tools (default <root>/.tools/bin)
//	E2E_KYVERNO_SRC    Kyverno module source (default: `go list -m` in tools/kyverno)
//	E2E_SERVICE_BIN    the service binary (default <root>/bin/api, built by `make build`)
func FromEnv(ctx context.Context, getenv func(string) string) (Config, error) {
	root, err := manifests.FindRoot()
	if err != nil {
		return Config{}, err
	}
	cfg := Config{
		Root:          root,
		RunDir:        or(getenv("E2E_RUN_DIR"), filepath.Join(root, ".run", "e2e")),
		ToolsBin:      or(getenv("E2E_TOOLS_BIN"), filepath.Join(root, ".tools", "bin")),
		KyvernoSource: getenv("E2E_KYVERNO_SRC"),
		ServiceBinary: or(getenv("E2E_SERVICE_BIN"), filepath.Join(root, "bin", "api")),
	}
	cfg.Mode, cfg.ModeReason, err = cluster.SelectMode(ctx, getenv)
	if err != nil {
		return Config{}, err
	}
	if cfg.KyvernoSource == "" && cfg.Mode != cluster.ModeExisting {
		cfg.KyvernoSource, err = KyvernoSource(ctx, root)
		if err != nil {
			return Config{}, err
		}
	}
	return cfg, nil
}

// KyvernoSource finds the Kyverno module's folder in the module cache through tools/kyverno.
func KyvernoSource(ctx context.Context, root string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", "github.com/kyverno/kyverno")
	cmd.Dir = filepath.Join(root, "tools", "kyverno")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("find the Kyverno module through tools/kyverno (go list -m): %w", err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("the Kyverno module is not in the module cache: run `make kyverno-tools`")
	}
	return dir, nil
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// Env is a cluster with the guardrails installed and the run's images in its registry.
type Env struct {
	Config  Config
	Cluster cluster.Cluster
	Admin   *kube.Client
	Images  scenario.Images
	Timings *cluster.Timings
	// Rendered is the app overlay, with the signed image pinned by digest.
	Rendered []*unstructured.Unstructured
	// Policies are the Kyverno policies installed and Ready (Kind/name).
	Policies []string

	attester *release.Attester // the run's key, trusted by the policies, and another one

	mu      sync.Mutex
	clients map[string]*kube.Client

	deployOnce sync.Once
	deployed   []AppliedObject
	deployErr  error
}

// AppliedObject is one object of the good path and what the API server said.
type AppliedObject struct {
	Description string
	Err         error
	Duration    time.Duration
}

// Up starts the cluster and installs the guardrails. On error, whatever was started is stopped
// again (the demo's detached processes are left for `make demo-down`, with their logs).
func Up(ctx context.Context, cfg Config) (_ *Env, err error) {
	if cfg.Log == nil {
		cfg.Log = func(string, ...any) {}
	}
	env := &Env{Config: cfg, Timings: &cluster.Timings{}, clients: map[string]*kube.Client{}}
	defer func() {
		if err != nil && env.Cluster != nil && !cfg.Detach {
			_ = env.Cluster.Stop(context.Background())
		}
	}()
	if err := os.MkdirAll(cfg.RunDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", cfg.RunDir, err)
	}
	cfg.Log("cluster mode: %s (%s)", cfg.Mode, cfg.ModeReason)
	if env.Cluster, err = startCluster(ctx, cfg, env.Timings); err != nil {
		return nil, err
	}
	if env.Admin, err = kube.FromKubeconfig(env.Cluster.Kubeconfig()); err != nil {
		return nil, err
	}
	done := env.Timings.Track("images built, pushed and signed")
	publicKeyPEM, err := env.prepareImages(ctx)
	if err != nil {
		return nil, err
	}
	done()
	done = env.Timings.Track("policies installed and Ready")
	if err := env.installPolicies(ctx, publicKeyPEM); err != nil {
		return nil, err
	}
	done()
	done = env.Timings.Track("app overlay rendered")
	objs, err := manifests.KindOverlayWithImage(cfg.Root, cfg.RunDir, env.Images.Signed)
	if err != nil {
		return nil, err
	}
	env.Rendered = objs
	done()
	return env, nil
}

// Down stops what Up started (nothing for an existing cluster).
func (e *Env) Down(ctx context.Context) error {
	if e.Cluster == nil {
		return nil
	}
	return e.Cluster.Stop(ctx)
}

// As returns a client for user ("" = the admin), impersonating through the admin's rights.
func (e *Env) As(user string) (*kube.Client, error) {
	if user == "" {
		return e.Admin, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.clients[user]; ok {
		return c, nil
	}
	c, err := e.Admin.Impersonate(user)
	if err != nil {
		return nil, err
	}
	e.clients[user] = c
	return c, nil
}
