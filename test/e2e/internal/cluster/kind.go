package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	kindcluster "sigs.k8s.io/kind/pkg/cluster"

	"github.com/platform-template/template-api/test/e2e/internal/proc"
)

// The kind demo's registry: a registry:2 container published on localhost:5001 (the address
// the kind overlay and the policies name) and reachable from the nodes as kind-registry:5000,
// the layout of kind's own "local registry" guide.
const (
	KindRegistryName = "kind-registry"
	KindRegistryAddr = "localhost:5001"
	// registry 2.8.3, pinned by digest.
	kindRegistryImage = "docker.io/library/registry:2@sha256:a3d8aaa63ed8681a604f1dea0aa03f100d5895b6a58ace528858a7b332415373"
)

// KindOptions configure a kind cluster for the end-to-end tests.
type KindOptions struct {
	Name          string
	Dir           string
	Bin           Binaries
	KyvernoSource string
	// ClusterConfig is the repository's k8s/cluster folder, mounted into the node for the API
	// server's admission configuration.
	ClusterConfig string
	Detach        bool
	Log           Logf
	Timings       *Timings
}

// Kind is a kind cluster (node image: kind's own default, pinned by digest in the kind
// module), the local registry container, and Kyverno's controllers run from the same pinned
// binaries as on the local control plane, as host processes the API server calls through the
// kind network's gateway.
type Kind struct {
	opts       KindOptions
	kubeconfig string
	procs      []*proc.Process
	registryIP string
}

func (k *Kind) Mode() Mode         { return ModeKind }
func (k *Kind) Kubeconfig() string { return k.kubeconfig }
func (k *Kind) RunsPods() bool     { return true }
func (k *Kind) Registry() string   { return KindRegistryAddr }

// RegistryInternal is the registry container's address on the kind network (from the host
// too): an address the platform's registry list does not name.
func (k *Kind) RegistryInternal() string { return k.registryIP + ":5000" }

// StartKind creates (or reuses) the kind cluster and its registry and starts Kyverno.
func StartKind(ctx context.Context, opts KindOptions) (_ *Kind, err error) {
	if opts.Log == nil {
		opts.Log = func(string, ...any) {}
	}
	if opts.Timings == nil {
		opts.Timings = &Timings{}
	}
	if err := DockerAnswers(ctx); err != nil {
		return nil, fmt.Errorf("E2E_CLUSTER=kind needs Docker: %w", err)
	}
	StopLocal(opts.Dir, opts.Log)
	if err := os.MkdirAll(filepath.Join(opts.Dir, "logs"), 0o755); err != nil {
		return nil, err
	}
	k := &Kind{opts: opts, kubeconfig: filepath.Join(opts.Dir, "kubeconfig")}
	defer func() {
		if err != nil {
			_ = k.Stop(context.Background())
		}
	}()
	done := opts.Timings.Track("kind cluster ready")
	if err := ensureRegistry(ctx, opts.Log); err != nil {
		return nil, err
	}
	provider := kindcluster.NewProvider()
	names, err := provider.List()
	if err != nil {
		return nil, fmt.Errorf("list kind clusters: %w", err)
	}
	if !slices.Contains(names, opts.Name) {
		opts.Log("creating kind cluster %s (first time: pulls the node image, about 1-2 min)", opts.Name)
		if err := provider.Create(opts.Name,
			kindcluster.CreateWithRawConfig([]byte(kindConfig(opts.ClusterConfig))),
			kindcluster.CreateWithWaitForReady(3*time.Minute),
			kindcluster.CreateWithKubeconfigPath(k.kubeconfig),
			kindcluster.CreateWithDisplayUsage(false), kindcluster.CreateWithDisplaySalutation(false)); err != nil {
			return nil, fmt.Errorf("create kind cluster: %w", err)
		}
	}
	if err := provider.ExportKubeConfig(opts.Name, k.kubeconfig, false); err != nil {
		return nil, fmt.Errorf("kind kubeconfig: %w", err)
	}
	if err := connectRegistry(ctx, provider, opts.Name); err != nil {
		return nil, err
	}
	if k.registryIP, err = dockerOut(ctx, "inspect", "-f", "{{.NetworkSettings.Networks.kind.IPAddress}}", KindRegistryName); err != nil {
		return nil, err
	}
	done()
	gateway, err := dockerOut(ctx, "network", "inspect", "kind", "-f", "{{range .IPAM.Config}}{{if .Gateway}}{{.Gateway}} {{end}}{{end}}")
	if err != nil {
		return nil, err
	}
	gw := ""
	for _, g := range strings.Fields(gateway) {
		if strings.Contains(g, ".") { // the IPv4 gateway (kind's network also has an IPv6 one)
			gw = g
			break
		}
	}
	if gw == "" {
		return nil, fmt.Errorf("the kind network has no IPv4 gateway (got %q)", gateway)
	}
	err = runKyverno(ctx, kyvernoRun{
		Kubeconfig: k.kubeconfig, AdvertiseHost: gw, ListenHost: gw,
		Bin: opts.Bin, Source: opts.KyvernoSource, ClusterConfig: opts.ClusterConfig, Timings: opts.Timings,
		Start: func(spec proc.Spec) (*proc.Process, error) {
			spec.Dir, spec.Detach = filepath.Join(opts.Dir, "logs"), opts.Detach
			p, err := proc.Start(spec)
			if err == nil {
				k.procs = append(k.procs, p)
				opts.Log("started %s (pid %d, log %s)", p.Name, p.PID, p.LogPath)
			}
			return p, err
		},
	})
	return k, err
}

// Stop stops the Kyverno processes by PID and, for the tests (not detached), deletes the kind
// cluster: a cluster whose fail-closed webhooks point at a stopped Kyverno must not be left
// behind. The registry container stays (the demo may share it); DeleteKind removes both.
func (k *Kind) Stop(_ context.Context) error {
	var errs []error
	for i := len(k.procs) - 1; i >= 0; i-- {
		errs = append(errs, k.procs[i].Stop(10*time.Second))
	}
	k.procs = nil
	if !k.opts.Detach {
		if err := kindcluster.NewProvider().Delete(k.opts.Name, ""); err != nil {
			errs = append(errs, fmt.Errorf("delete kind cluster %s: %w", k.opts.Name, err))
		}
	}
	return errors.Join(errs...)
}

// DeleteKind removes the kind cluster and the registry container (make demo-down).
func DeleteKind(ctx context.Context, name, dir string, log Logf) error {
	StopLocal(dir, log)
	if err := kindcluster.NewProvider().Delete(name, ""); err != nil {
		return fmt.Errorf("delete kind cluster %s: %w", name, err)
	}
	if _, err := dockerOut(ctx, "rm", "-f", KindRegistryName); err != nil {
		return err
	}
	return nil
}

// kindNodeClusterConfig is where the repository's k8s/cluster folder appears in the node and in
// the API server's static pod.
const kindNodeClusterConfig = "/etc/kubernetes/platform"

// kindConfig is the kind cluster's configuration: containerd looks for per-registry
// configuration in /etc/containerd/certs.d, and the API server reads the platform's admission
// configuration (k8s/cluster, Pod Security "restricted" by default) from the mounted folder. kind
// v0.30 writes kubeadm's v1beta3 ClusterConfiguration, where extraArgs is a map.
func kindConfig(clusterConfigDir string) string {
	return fmt.Sprintf(`kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
containerdConfigPatches:
  - |-
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "/etc/containerd/certs.d"
nodes:
  - role: control-plane
    extraMounts:
      - hostPath: %[1]q
        containerPath: %[2]s
        readOnly: true
    kubeadmConfigPatches:
      - |
        kind: ClusterConfiguration
        apiServer:
          extraArgs:
            admission-control-config-file: %[2]s/%[3]s
          extraVolumes:
            - name: platform-config
              hostPath: %[2]s
              mountPath: %[2]s
              readOnly: true
              pathType: Directory
`, clusterConfigDir, kindNodeClusterConfig, PodSecurityAdmissionFile)
}

func ensureRegistry(ctx context.Context, log Logf) error {
	switch running, err := dockerOut(ctx, "inspect", "-f", "{{.State.Running}}", KindRegistryName); {
	case err == nil && running == "true":
		return nil
	case err == nil: // exists, stopped
		log("starting the stopped registry container %s", KindRegistryName)
		_, err := dockerOut(ctx, "start", KindRegistryName)
		return err
	}
	log("starting the local registry container %s on %s", KindRegistryName, KindRegistryAddr)
	_, err := dockerOut(ctx, "run", "-d", "--restart=always", "-p", "127.0.0.1:5001:5000",
		"--network", "bridge", "--name", KindRegistryName, kindRegistryImage)
	return err
}

// connectRegistry makes localhost:5001 inside every node mean the registry container.
func connectRegistry(ctx context.Context, provider *kindcluster.Provider, name string) error {
	nodes, err := provider.ListNodes(name)
	if err != nil {
		return fmt.Errorf("list kind nodes: %w", err)
	}
	hosts := fmt.Sprintf("[host.\"http://%s:5000\"]\n", KindRegistryName)
	for _, n := range nodes {
		cmd := n.Command("sh", "-c", "mkdir -p /etc/containerd/certs.d/"+KindRegistryAddr+
			" && cat > /etc/containerd/certs.d/"+KindRegistryAddr+"/hosts.toml")
		cmd.SetStdin(strings.NewReader(hosts))
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("configure the registry mirror on node %s: %w", n.String(), err)
		}
	}
	if net, _ := dockerOut(ctx, "inspect", "-f", "{{json .NetworkSettings.Networks.kind}}", KindRegistryName); net == "" || net == "null" {
		if _, err := dockerOut(ctx, "network", "connect", "kind", KindRegistryName); err != nil {
			return err
		}
	}
	return nil
}

func dockerOut(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}
