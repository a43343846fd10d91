// Package harness brings up everything the end-to-end tests and the demo need, on whichever
// cluster the machine allows: the cluster with its node, the platform installed as its users
// install it (Kyverno and the registry, k8s/platform), the run's signing key and images in the
// in-cluster registry, the policies with that key, and (once) the app's overlay. Tests and demo
// share it, so the demo shows exactly what the tests prove.
package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/platform-template/template-api/test/internal/repo"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/platform-template/template-api/test/e2e/internal/cluster"
	"github.com/platform-template/template-api/test/e2e/internal/kube"
	"github.com/platform-template/template-api/test/e2e/internal/manifests"
	"github.com/platform-template/template-api/test/e2e/internal/platform"
	"github.com/platform-template/template-api/test/e2e/internal/release"
	"github.com/platform-template/template-api/test/e2e/internal/scenario"
)

// Config says where things are. Zero values are filled from the environment by FromEnv.
type Config struct {
	Root          string // repository root
	RunDir        string // state of this run (the cluster, logs, rendered overlays)
	ToolsBin      string // built tools (etcd, the Kubernetes components, kyverno-*, ...)
	ServiceBinary string // static service binary, laid out as the image's /api (local mode)
	Registry      string // existing mode: the registry the cluster pulls from (E2E_REGISTRY)
	Mode          cluster.Mode
	ModeReason    string
	Detach        bool     // the demo: processes and the cluster outlive the program
	RelayCmd      []string // the demo: run the API server relay as this process
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
//	E2E_SERVICE_BIN    the service binary (default <root>/bin/api, built by `make build`)
//	E2E_REGISTRY       existing mode: a registry the cluster pulls from and the tests push to
func FromEnv(ctx context.Context, getenv func(string) string) (Config, error) {
	root, err := repo.Root()
	if err != nil {
		return Config{}, err
	}
	cfg := Config{
		Root:          root,
		RunDir:        or(getenv("E2E_RUN_DIR"), filepath.Join(root, ".run", "e2e")),
		ToolsBin:      or(getenv("E2E_TOOLS_BIN"), filepath.Join(root, ".tools", "bin")),
		ServiceBinary: or(getenv("E2E_SERVICE_BIN"), filepath.Join(root, "bin", "api")),
		Registry:      getenv("E2E_REGISTRY"),
	}
	cfg.Mode, cfg.ModeReason, err = cluster.SelectMode(ctx, getenv)
	if err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// Env is a cluster with the platform and the guardrails installed and the run's images in its
// registry.
type Env struct {
	Config   Config
	Cluster  cluster.Cluster
	Admin    *kube.Client
	Registry *platform.Registry
	Images   scenario.Images
	Timings  *cluster.Timings
	// Rendered is the app overlay, with the signed image pinned by digest.
	Rendered []*unstructured.Unstructured
	// Policies are the Kyverno policies installed and Ready (Kind/name).
	Policies []string

	attester *release.Attester // the run's key, trusted by the policies, and another one
	postgres string            // local mode: the node's PostgreSQL image (name:tag@digest)
	bins     helperBinaries

	mu      sync.Mutex
	clients map[string]*kube.Client

	deployOnce sync.Once
	deployed   []AppliedObject
	deployErr  error

	probeOnce  sync.Once
	probeImage string
	probeErr   error
}

// AppliedObject is one object of the good path and what the API server said.
type AppliedObject struct {
	Description string
	Err         error
	Duration    time.Duration
}

// Up starts the cluster and installs the platform and the guardrails. On error, whatever was
// started is stopped again (the demo's detached cluster is left for `make demo-down`, with
// its logs).
func Up(ctx context.Context, cfg Config) (_ *Env, err error) {
	if cfg.Log == nil {
		cfg.Log = func(string, ...any) {}
	}
	env := &Env{Config: cfg, Timings: &cluster.Timings{}, clients: map[string]*kube.Client{}}
	defer func() {
		if err != nil && !cfg.Detach {
			_ = env.Down(context.Background())
		}
	}()
	if err := os.MkdirAll(cfg.RunDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", cfg.RunDir, err)
	}
	cfg.Log("cluster mode: %s (%s)", cfg.Mode, cfg.ModeReason)
	if err := env.startCluster(ctx); err != nil {
		return nil, err
	}
	if env.Admin, err = kube.FromKubeconfig(env.Cluster.Kubeconfig()); err != nil {
		return nil, err
	}
	if cfg.Mode == cluster.ModeExisting {
		if cfg.Registry == "" {
			return nil, fmt.Errorf("E2E_CLUSTER=existing needs E2E_REGISTRY, a registry the cluster pulls from and the tests can push to")
		}
		env.Registry = platform.ExternalRegistry(cfg.Registry)
	} else {
		done := env.Timings.Track("platform installed (Kyverno, registry)")
		// Installing (or upgrading) the platform is a break-glass operation: the platform's own
		// protection refuses changes to Kyverno's configuration to everyone else.
		installer, err := env.Admin.Impersonate("platform-installer", "system:masters", platform.BreakGlassGroup)
		if err != nil {
			return nil, err
		}
		if err := platform.Install(ctx, installer, cfg.Root, platform.LocalDeclaration, cfg.Log); err != nil {
			return nil, err
		}
		if env.Registry, err = platform.OpenRegistry(ctx, env.Admin); err != nil {
			return nil, err
		}
		done()
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
	objs, err := manifests.KindOverlayWithImage(cfg.Root, cfg.RunDir, env.Images.Signed, env.postgres)
	if err != nil {
		return nil, err
	}
	env.Rendered = objs
	done()
	return env, nil
}

// Down stops what Up started (nothing for an existing cluster, nor for the demo's).
func (e *Env) Down(ctx context.Context) error {
	if e.Registry != nil {
		e.Registry.Close()
	}
	if e.Cluster == nil {
		return nil
	}
	return e.Cluster.Stop(ctx)
}

// Leftovers lists what a stopped local cluster left on the machine (nothing to check in the
// other modes: kind deletes its containers, an existing cluster is not ours).
func (e *Env) Leftovers() []string {
	if e.Config.Mode != cluster.ModeLocal {
		return nil
	}
	return cluster.LocalLeftovers(e.Config.LocalOptions(nil).Dir)
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
