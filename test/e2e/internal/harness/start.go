package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/platform-template/template-api/test/e2e/internal/cluster"
)

// Binaries are the tools the local control plane runs, in ToolsBin.
func (c Config) Binaries() cluster.Binaries {
	return cluster.Binaries{
		Etcd:              filepath.Join(c.ToolsBin, "etcd"),
		APIServer:         filepath.Join(c.ToolsBin, "kube-apiserver"),
		KyvernoAdmission:  filepath.Join(c.ToolsBin, "kyverno-admission"),
		KyvernoBackground: filepath.Join(c.ToolsBin, "kyverno-background"),
	}
}

// LocalOptions are the local control plane's options for this configuration.
func (c Config) LocalOptions(t *cluster.Timings) cluster.LocalOptions {
	return cluster.LocalOptions{
		Dir: filepath.Join(c.RunDir, "cluster"), Bin: c.Binaries(), KyvernoSource: c.KyvernoSource,
		ClusterConfig: c.ClusterConfig(),
		RegistryCmd:   c.RegistryCmd, Detach: c.Detach, Log: c.Log, Timings: t,
	}
}

// KindOptions are the kind cluster's options for this configuration: the tests' cluster is
// deleted when they end; the demo's (detached) lives until `make demo-down`.
func (c Config) KindOptions(t *cluster.Timings) cluster.KindOptions {
	name := "template-api-e2e"
	if c.Detach {
		name = "template-api-demo"
	}
	return cluster.KindOptions{
		Name: name, Dir: filepath.Join(c.RunDir, "kind"), Bin: c.Binaries(),
		KyvernoSource: c.KyvernoSource, ClusterConfig: c.ClusterConfig(), Detach: c.Detach, Log: c.Log, Timings: t,
	}
}

// ClusterConfig is the repository's k8s/cluster folder (admission configuration, Kyverno's
// ConfigMap), shared by the local control plane and the kind cluster.
func (c Config) ClusterConfig() string { return filepath.Join(c.Root, "k8s", "cluster") }

func startCluster(ctx context.Context, cfg Config, t *cluster.Timings) (cluster.Cluster, error) {
	switch cfg.Mode {
	// On error the Start functions have stopped what they started; return a nil interface
	// (not a nil pointer in one) so that nobody stops it twice.
	case cluster.ModeLocal:
		l, err := cluster.StartLocal(ctx, cfg.LocalOptions(t))
		if err != nil {
			return nil, err
		}
		return l, nil
	case cluster.ModeKind:
		k, err := cluster.StartKind(ctx, cfg.KindOptions(t))
		if err != nil {
			return nil, err
		}
		return k, nil
	case cluster.ModeExisting:
		return cluster.Existing(os.Getenv)
	default:
		return nil, fmt.Errorf("unknown cluster mode %q", cfg.Mode)
	}
}
