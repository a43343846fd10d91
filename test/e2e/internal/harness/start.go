package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/platform-template/template-api/test/e2e/internal/cluster"
	"github.com/platform-template/template-api/test/e2e/internal/images"
	"github.com/platform-template/template-api/test/e2e/internal/node"
)

// Debian's locations of the node runtime (mk/e2e.mk installs the packages).
const (
	cniBinDir      = "/usr/lib/cni"
	postgresBinDir = "/usr/lib/postgresql/15/bin"
)

// Binaries are the programs the local cluster runs.
func (c Config) Binaries() cluster.Binaries {
	t := func(name string) string { return filepath.Join(c.ToolsBin, name) }
	return cluster.Binaries{
		Etcd: t("etcd"), APIServer: t("kube-apiserver"), ControllerManager: t("kube-controller-manager"),
		Scheduler: t("kube-scheduler"), CNIBinDir: cniBinDir,
		Node: node.Binaries{Containerd: lookPath("containerd"), Ctr: lookPath("ctr"), Kubelet: t("kubelet"),
			KubeProxy: t("kube-proxy"), KubeRouter: t("kube-router")},
	}
}

func lookPath(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return "/usr/bin/" + name // reported as missing by the node
}

// LocalOptions are the local cluster's options for this configuration.
func (c Config) LocalOptions(t *cluster.Timings) cluster.LocalOptions {
	return cluster.LocalOptions{Dir: filepath.Join(c.RunDir, "cluster"), Bin: c.Binaries(),
		ClusterConfig: c.ClusterConfig(), RelayCmd: c.RelayCmd, Detach: c.Detach, Log: c.Log, Timings: t}
}

// KindOptions are the kind cluster's options for this configuration: the tests' cluster is
// deleted when they end; the demo's (detached) lives until `make demo-down`.
func (c Config) KindOptions(t *cluster.Timings) cluster.KindOptions {
	name := "template-api-e2e"
	if c.Detach {
		name = "template-api-demo"
	}
	return cluster.KindOptions{Name: name, Dir: filepath.Join(c.RunDir, "kind"), ClusterConfig: c.ClusterConfig(),
		Detach: c.Detach, Log: c.Log, Timings: t}
}

// ClusterConfig is the repository's k8s/cluster folder (the API server's admission
// configuration), shared by the local cluster and the kind cluster.
func (c Config) ClusterConfig() string { return filepath.Join(c.Root, "k8s", "cluster") }

// helperBinaries are this module's programs that run in images (static builds).
type helperBinaries struct {
	Registry, PgEntrypoint, Probe string
}

// buildHelpers compiles test/e2e/cmd/{registry,pgentrypoint,probe} statically for linux/amd64.
func (e *Env) buildHelpers(ctx context.Context) error {
	dir := filepath.Join(e.Config.RunDir, "bin")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", dir+"/",
		"./cmd/registry", "./cmd/pgentrypoint", "./cmd/probe")
	cmd.Dir = filepath.Join(e.Config.Root, "test", "e2e")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the in-cluster helpers: %w\n%s", err, out)
	}
	e.bins = helperBinaries{Registry: filepath.Join(dir, "registry"), PgEntrypoint: filepath.Join(dir, "pgentrypoint"),
		Probe: filepath.Join(dir, "probe")}
	return nil
}

func (e *Env) imageSources() images.Sources {
	t := func(name string) string { return filepath.Join(e.Config.ToolsBin, name) }
	return images.Sources{Pause: t("pause"), CoreDNS: t("coredns"), Registry: e.bins.Registry,
		KyvernoAdmission: t("kyverno-admission"), KyvernoBackground: t("kyverno-background"), KyvernoInit: t("kyverno-init"),
		KyvernoReports:     t("kyverno-reports"),
		PostgresEntrypoint: e.bins.PgEntrypoint, PostgresBinDir: postgresBinDir}
}

// startCluster assembles the images the cluster needs before any registry exists and starts
// the cluster with them.
func (e *Env) startCluster(ctx context.Context) error {
	cfg := e.Config
	if cfg.Mode == cluster.ModeExisting {
		c, err := cluster.Existing(os.Getenv)
		if err != nil {
			return err
		}
		e.Cluster = c
		return e.buildHelpers(ctx)
	}
	done := e.Timings.Track("images assembled (go-containerregistry)")
	if err := e.buildHelpers(ctx); err != nil {
		return err
	}
	b := images.NewBuilder(filepath.Join(cfg.Root, ".run", "image-cache"))
	src := e.imageSources()
	platformImgs, err := b.Platform(src)
	if err != nil {
		return err
	}
	done()
	switch cfg.Mode {
	case cluster.ModeLocal:
		nodeImgs, err := b.Node(src)
		if err != nil {
			return err
		}
		pg, err := b.Postgres(src)
		if err != nil {
			return err
		}
		e.postgres = pg.Ref()
		if err := b.Prune(); err != nil {
			return err
		}
		if err := checkPause(filepath.Join(cfg.ToolsBin, "pause")); err != nil {
			return err
		}
		opts := cfg.LocalOptions(e.Timings)
		opts.Images = append(append(nodeImgs, platformImgs...), pg)
		l, err := cluster.StartLocal(ctx, opts)
		if err != nil {
			return err
		}
		e.Cluster = l // a nil *Local must not become a non-nil interface
		return nil
	case cluster.ModeKind:
		if err := b.Prune(); err != nil {
			return err
		}
		k, err := cluster.StartKind(ctx, cfg.KindOptions(e.Timings))
		if err != nil {
			return err
		}
		e.Cluster = k
		done := e.Timings.Track("platform images loaded (kind load)")
		if err := k.LoadImages(ctx, platformImgs); err != nil {
			return err
		}
		done()
		return nil
	default:
		return fmt.Errorf("unknown cluster mode %q", cfg.Mode)
	}
}

// checkPause: the pause program must be the version the sandbox image is named for.
func checkPause(bin string) error {
	out, err := exec.Command(bin, "-v").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s -v: %w (built by `make e2e-tools`)", bin, err)
	}
	tag := images.PauseImage[strings.LastIndex(images.PauseImage, ":")+1:]
	if !strings.Contains(string(out), "v"+tag+"-") {
		return fmt.Errorf("%s is %q; the sandbox image is %s", bin, strings.TrimSpace(string(out)), images.PauseImage)
	}
	return nil
}
