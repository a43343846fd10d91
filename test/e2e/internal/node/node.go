// Package node runs the local cluster's node inside the namespaces of package nodens:
// containerd (Debian's package, with runc and the CNI plugins), the kubelet and kube-proxy
// (built from the pinned k8s.io/kubernetes), and kube-router as the NetworkPolicy agent. It
// imports the images the node runs, and on Stop removes everything the node left: container
// processes (through their cgroups), cgroups, the kernel settings the kubelet changed, and the
// state it wrote; Leftovers says what, if anything, is still there.
package node

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/platform-template/template-api/test/e2e/internal/nodens"
	"github.com/platform-template/template-api/test/e2e/internal/proc"
	"github.com/platform-template/template-api/test/e2e/internal/topology"
)

// PodSubnet is the node's share of the pod range.
const PodSubnet = topology.PodSubnet

// Binaries are the node's programs.
type Binaries struct {
	Containerd string // Debian's containerd (runc and the shim come with it, found on PATH)
	Ctr        string
	Kubelet    string
	KubeProxy  string
	KubeRouter string
}

// Options configure the node.
type Options struct {
	Dir       string // state folder of the node (config, containerd root, kubelet root, logs)
	LogDir    string // where the processes' logs and PID files go
	Bin       Binaries
	CNIBinDir string // Debian's containernetworking-plugins
	// Kubeconfigs of the node's programs (each with its own identity) and the PKI the kubelet
	// serves with.
	KubeletKubeconfig, KubeProxyKubeconfig, KubeRouterKubeconfig string
	CAFile, KubeletCert, KubeletKey                              string
	Detach                                                       bool
	Log                                                          func(string, ...any)
}

// Node is a running node.
type Node struct {
	opts  Options
	ns    *nodens.NS
	procs []*proc.Process
}

// Names of the node's processes (their logs and PID files), in start order.
const (
	procContainerd = "containerd"
	procKubelet    = "kubelet"
	procKubeProxy  = "kube-proxy"
	procKubeRouter = "kube-router"
)

// Start starts containerd, imports nothing yet (see Import), then the kubelet, kube-proxy and
// kube-router, all inside ns. It returns once containerd answers; the caller waits for the
// Node object to be Ready. On error it stops what it started.
func Start(ctx context.Context, ns *nodens.NS, opts Options) (_ *Node, err error) {
	if opts.Log == nil {
		opts.Log = func(string, ...any) {}
	}
	for _, b := range []string{opts.Bin.Containerd, opts.Bin.Ctr, opts.Bin.Kubelet, opts.Bin.KubeProxy, opts.Bin.KubeRouter} {
		if _, err := os.Stat(b); err != nil {
			return nil, fmt.Errorf("the node needs %s (make e2e-tools): %w", b, err)
		}
	}
	n := &Node{opts: opts, ns: ns}
	defer func() {
		if err != nil {
			_ = n.Stop(context.Background())
		}
	}()
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, err
	}
	if _, err := n.startContainerd(ctx); err != nil {
		return nil, err
	}
	return n, nil
}

// StartAgents starts the kubelet and kube-proxy (after the images are imported, so that the
// first pods find them).
func (n *Node) StartAgents(_ context.Context) error {
	if err := n.recordSysctls(); err != nil {
		return err
	}
	if err := n.startKubelet(); err != nil {
		return err
	}
	return n.startKubeProxy()
}

// StartNetworkPolicyAgent starts kube-router once the kubelet has registered the Node (it
// reads its own Node at start and exits without it) and returns when its health check
// answers: no pod runs unguarded by a policy agent that silently died.
func (n *Node) StartNetworkPolicyAgent(ctx context.Context) error {
	p, err := n.startKubeRouter()
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DialContext: n.ns.DialContext}}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return p.WaitFor(wctx, "kube-router's health check", 200*time.Millisecond, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+kubeRouterHealthPort+"/healthz", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("kube-router /healthz: %s", resp.Status)
		}
		return nil
	})
}

func (n *Node) dir(parts ...string) string {
	return filepath.Join(append([]string{n.opts.Dir}, parts...)...)
}

func (n *Node) start(spec proc.Spec) (*proc.Process, error) {
	spec.Dir, spec.Detach, spec.Wrap = n.opts.LogDir, n.opts.Detach, n.ns.Wrap()
	p, err := proc.Start(spec)
	if err != nil {
		return nil, err
	}
	n.procs = append(n.procs, p)
	n.opts.Log("started %s (pid %d, log %s)", p.Name, p.PID, p.LogPath)
	return p, nil
}

// CgroupRoot is the node's own cgroup (under every v1 hierarchy): the kubelet puts the pods
// under it, so they are found and removed by it, and two runs never share one. It is derived
// from the state folder, so a later `demo down` finds the same one.
func CgroupRoot(stateDir string) string {
	abs, err := filepath.Abs(stateDir)
	if err != nil {
		abs = stateDir
	}
	sum := sha256.Sum256([]byte(abs))
	return "template-api-e2e-" + hex.EncodeToString(sum[:])[:10]
}

// Stop stops the node's agents by their PIDs, kills the containers through their cgroups,
// stops containerd, removes the cgroups and restores the kernel settings the kubelet changed.
// The namespaces (and with them every mount, interface and rule) go when the caller destroys
// them; Teardown does all of it for a node found again from its state folder.
func (n *Node) Stop(_ context.Context) error {
	var errs []error
	for i := len(n.procs) - 1; i >= 0; i-- {
		if n.procs[i].Name == procContainerd {
			errs = append(errs, killContainers(CgroupRoot(n.opts.Dir)))
		}
		errs = append(errs, n.procs[i].Stop(10*time.Second))
	}
	n.procs = nil
	errs = append(errs, killContainers(CgroupRoot(n.opts.Dir)))
	return errors.Join(errs...)
}

// Teardown stops whatever a run left (by PID files in logDir), after which the caller destroys
// the namespaces, then calls Cleanup.
func Teardown(stateDir, logDir string, log func(string, ...any)) error {
	var errs []error
	for _, name := range []string{procKubeRouter, procKubeProxy, procKubelet} {
		if p, ok := proc.Find(logDir, name); ok {
			log("stopping %s (pid %d)", name, p.PID)
			errs = append(errs, p.Stop(10*time.Second))
		}
	}
	errs = append(errs, killContainers(CgroupRoot(stateDir)))
	if p, ok := proc.Find(logDir, procContainerd); ok {
		log("stopping containerd (pid %d)", p.PID)
		errs = append(errs, p.Stop(10*time.Second))
	}
	return errors.Join(errs...)
}

// Cleanup runs once no process of the node is left (the namespaces destroyed): it removes the
// node's cgroups, restores the kernel settings and deletes the node's state but for its logs.
func Cleanup(stateDir string) error {
	var errs []error
	errs = append(errs, killContainers(CgroupRoot(stateDir)))
	errs = append(errs, removeCgroups(CgroupRoot(stateDir)))
	errs = append(errs, restoreSysctls(stateDir))
	for _, d := range []string{"containerd", "kubelet", "cni-ipam", "pv"} {
		if err := os.RemoveAll(filepath.Join(stateDir, d)); err != nil {
			errs = append(errs, fmt.Errorf("remove the node's %s state: %w", d, err))
		}
	}
	return errors.Join(errs...)
}

func (n *Node) registryHostsDir() string { return n.dir("containerd", "certs.d") }

// writeRegistryHosts tells containerd where the in-cluster registry answers (plain HTTP, at
// its fixed ClusterIP), under the name image references use.
func (n *Node) writeRegistryHosts() error {
	return WriteRegistryHosts(n.registryHostsDir())
}

// RegistryHostsTOML is containerd's hosts.toml for the in-cluster registry: kind writes the
// same file into its node.
func RegistryHostsTOML() string {
	url := "http://" + topology.RegistryIP + ":" + topology.RegistryPort
	return fmt.Sprintf("server = %q\n\n[host.%q]\n  capabilities = [\"pull\", \"resolve\"]\n", url, url)
}

// WriteRegistryHosts writes RegistryHostsTOML under dir/<registry host>/hosts.toml.
func WriteRegistryHosts(dir string) error {
	d := filepath.Join(dir, strings.ReplaceAll(topology.RegistryHost, "/", "_"))
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d, "hosts.toml"), []byte(RegistryHostsTOML()), 0o644)
}
