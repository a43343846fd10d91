package node

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/platform-template/template-api/test/e2e/internal/images"
	"github.com/platform-template/template-api/test/e2e/internal/proc"
)

// containerdConfig is containerd 1.6's configuration (version 2) for the node: everything it
// keeps under the run's state folder, the cgroupfs driver (no systemd here), the CNI plugins
// from Debian's package, the pause image the node imports, and registry hosts from certs.d.
//
// restrict_oom_score_adj: root on these machines lacks CAP_SYS_RESOURCE, so no process may
// lower its oom_score_adj; containerd then never asks runc for less than its own score, and
// containers start (a Guaranteed pod's -997 becomes containerd's 0).
const containerdConfig = `version = 2
root = %[1]q
state = %[2]q
oom_score = 0
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = %[3]q

[ttrpc]
  address = %[4]q

[plugins."io.containerd.internal.v1.opt"]
  path = %[5]q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[6]q
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  max_container_log_line_size = 16384

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %[7]q
    conf_dir = %[8]q

  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = %[9]q
`

// cniConfig routes every pod through the node (ptp: one veth per pod, no bridge), so that the
// NetworkPolicy agent sees pod-to-pod traffic in the forward path without br_netfilter.
// host-local keeps its leases under the state folder; the node's address range is the pod
// CIDR the controller-manager gives the node.
const cniConfig = `{
  "cniVersion": "1.0.0",
  "name": "e2e-pods",
  "plugins": [
    {
      "type": "ptp",
      "ipMasq": false,
      "mtu": 1500,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": %[1]q}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": %[2]q
      }
    }
  ]
}
`

// Containerd is the node's container runtime.
type Containerd struct {
	Socket string
	proc   *proc.Process
}

// startContainerd writes containerd's and the CNI's configuration and starts containerd in
// the node's namespaces.
func (n *Node) startContainerd(ctx context.Context) (*Containerd, error) {
	d := n.dir("containerd")
	cniDir := n.dir("cni")
	for _, p := range []string{d, cniDir, n.dir("cni-ipam"), n.registryHostsDir()} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return nil, err
		}
	}
	sock := filepath.Join(d, "containerd.sock")
	cfg := fmt.Sprintf(containerdConfig, filepath.Join(d, "root"), filepath.Join(d, "state"), sock, sock+".ttrpc",
		filepath.Join(d, "opt"), images.PauseImage, n.opts.CNIBinDir, cniDir, n.registryHostsDir())
	cfgPath := filepath.Join(d, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(cniDir, "10-e2e-pods.conflist"),
		[]byte(fmt.Sprintf(cniConfig, PodSubnet, n.dir("cni-ipam"))), 0o644); err != nil {
		return nil, err
	}
	if err := n.writeRegistryHosts(); err != nil {
		return nil, err
	}
	p, err := n.start(proc.Spec{Name: "containerd", Path: n.opts.Bin.Containerd, Args: []string{"--config", cfgPath, "--log-level", "warn"}})
	if err != nil {
		return nil, err
	}
	c := &Containerd{Socket: sock, proc: p}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := p.WaitFor(wctx, "containerd's socket", 50*time.Millisecond, func(ctx context.Context) error {
		_, err := n.ctr(ctx, nil, "version")
		return err
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// ctr runs containerd's own client in the k8s.io namespace (the one the CRI plugin reads).
func (n *Node) ctr(ctx context.Context, stdin io.Reader, args ...string) (string, error) {
	argv := append(n.ns.Wrap(), append([]string{n.opts.Bin.Ctr, "--address", filepath.Join(n.dir("containerd"), "containerd.sock"), "--namespace", "k8s.io"}, args...)...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin = stdin
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ctr %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// Import loads images into the node's containerd (`ctr images import`, streamed: no archive
// file). An image with a Digest is also named repository@digest, so that a Pod may name it by
// digest.
func (n *Node) Import(ctx context.Context, imgs []images.Named) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(images.WriteOCIArchive(pw, imgs)) }()
	_, err := n.ctr(ctx, pr, "images", "import", "-")
	_ = pr.Close()
	if err != nil {
		return fmt.Errorf("import %d images into the node: %w", len(imgs), err)
	}
	return nil
}
