package cluster

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	kindcluster "sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"

	"github.com/platform-template/template-api/test/e2e/internal/images"
	"github.com/platform-template/template-api/test/e2e/internal/node"
	"github.com/platform-template/template-api/test/e2e/internal/topology"
)

// KindNodeImage is kind's node image for Kubernetes v1.34.0, pinned by the digest that
// sigs.k8s.io/kind v0.30.0 (test/go.mod) names as its default (pkg/apis/config/defaults).
const KindNodeImage = "kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a"

// KindOptions configure a kind cluster for the end-to-end tests.
type KindOptions struct {
	Name string
	Dir  string
	// ClusterConfig is the repository's k8s/cluster folder, mounted into the node for the API
	// server's admission configuration and audit policy.
	ClusterConfig string
	Detach        bool
	Log           Logf
	Timings       *Timings
}

// Kind is a kind cluster. Only its creation differs from the local cluster: the platform, the
// registry (a Pod at a fixed ClusterIP), the images (kind load) and the tests are the same, and
// nothing runs beside it on the host.
type Kind struct {
	opts       KindOptions
	kubeconfig string
}

func (k *Kind) Mode() Mode         { return ModeKind }
func (k *Kind) Kubeconfig() string { return k.kubeconfig }

// kindNodeClusterConfig is where the repository's k8s/cluster folder appears in the node and in
// the API server's static pod.
const kindNodeClusterConfig = "/etc/kubernetes/platform"

// kindConfig is the kind cluster's configuration: kind's own networking defaults, spelled out
// because the registry's and DNS's fixed ClusterIPs (package topology) depend on them; the node
// image pinned; containerd reading per-registry configuration (hosts.toml) from
// /etc/containerd/certs.d; and the API server reading the platform's admission configuration
// (k8s/cluster, Pod Security "restricted" by default) and audit policy from the mounted folder,
// writing its audit log to a folder of the node (audit.go). kind v0.30 writes kubeadm's v1beta3
// ClusterConfiguration, where extraArgs is a map.
func kindConfig(clusterConfigDir string) string {
	return fmt.Sprintf(`kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  podSubnet: %[4]s
  serviceSubnet: %[5]s
containerdConfigPatches:
  - |-
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "/etc/containerd/certs.d"
nodes:
  - role: control-plane
    image: %[6]s
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
%[7]s          extraVolumes:
            - name: platform-config
              hostPath: %[2]s
              mountPath: %[2]s
              readOnly: true
              pathType: Directory
%[8]s`, clusterConfigDir, kindNodeClusterConfig, PodSecurityAdmissionFile, topology.ClusterCIDR, topology.ServiceCIDR, KindNodeImage,
		kindAuditArgs("            "), kindAuditVolume("            "))
}

// StartKind creates (or reuses) the kind cluster and points its containerd at the in-cluster
// registry.
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
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, err
	}
	k := &Kind{opts: opts, kubeconfig: filepath.Join(opts.Dir, "kubeconfig")}
	defer func() {
		if err != nil {
			_ = k.Stop(context.Background())
		}
	}()
	done := opts.Timings.Track("kind cluster ready")
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
	nodes, err := provider.ListNodes(opts.Name)
	if err != nil {
		return nil, fmt.Errorf("list kind nodes: %w", err)
	}
	dir := "/etc/containerd/certs.d/" + topology.RegistryHost
	for _, n := range nodes {
		if err := n.Command("mkdir", "-p", dir).Run(); err != nil {
			return nil, fmt.Errorf("configure the registry on node %s: %w", n.String(), err)
		}
		if err := nodeutils.WriteFile(n, dir+"/hosts.toml", node.RegistryHostsTOML()); err != nil {
			return nil, fmt.Errorf("configure the registry on node %s: %w", n.String(), err)
		}
	}
	done()
	return k, nil
}

// LoadImages loads images into every node (`kind load image-archive`, streamed).
func (k *Kind) LoadImages(_ context.Context, imgs []images.Named) error {
	nodes, err := kindcluster.NewProvider().ListNodes(k.opts.Name)
	if err != nil {
		return fmt.Errorf("list kind nodes: %w", err)
	}
	for _, n := range nodes {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(images.WriteOCIArchive(pw, imgs)) }()
		err := nodeutils.LoadImageArchive(n, pr)
		_ = pr.Close()
		if err != nil {
			return fmt.Errorf("load %d images into kind node %s: %w", len(imgs), n.String(), err)
		}
	}
	return nil
}

// Stop deletes the tests' cluster (not the demo's: `make demo-down` does).
func (k *Kind) Stop(_ context.Context) error {
	if k.opts.Detach {
		return nil
	}
	if err := k.saveAuditLog(); err != nil { // the log dies with the node: keep a copy
		k.opts.Log("audit log not saved: %v", err)
	}
	if err := kindcluster.NewProvider().Delete(k.opts.Name, ""); err != nil {
		return fmt.Errorf("delete kind cluster %s: %w", k.opts.Name, err)
	}
	return nil
}

// DeleteKind removes the demo's kind cluster.
func DeleteKind(name string) error {
	if err := kindcluster.NewProvider().Delete(name, ""); err != nil {
		return fmt.Errorf("delete kind cluster %s: %w", name, err)
	}
	return nil
}
