package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-template/template-api/test/e2e/internal/images"
	"github.com/platform-template/template-api/test/e2e/internal/kube"
	"github.com/platform-template/template-api/test/e2e/internal/node"
	"github.com/platform-template/template-api/test/e2e/internal/nodens"
	"github.com/platform-template/template-api/test/e2e/internal/proc"
	"github.com/platform-template/template-api/test/e2e/internal/topology"
)

// Binaries are the programs of the local cluster: built from the pinned tools/ modules, and
// containerd's from Debian's packages.
type Binaries struct {
	Etcd              string
	APIServer         string
	ControllerManager string
	Scheduler         string
	Node              node.Binaries
	CNIBinDir         string
}

// LocalOptions configure a local cluster.
type LocalOptions struct {
	Dir string   // state: certificates, etcd data, the node's state, logs, PID files
	Bin Binaries // the programs
	// Images are imported into the node before its kubelet starts (the node's own, the
	// platform's): nothing is ever pulled from outside.
	Images []images.Named
	// ClusterConfig is the repository's k8s/cluster folder: the API server's admission
	// configuration (Pod Security defaults) and audit policy (AuditPolicyFile; the log is
	// written under Dir, ReadSavedAuditLog).
	ClusterConfig string
	// RelayCmd, when set, runs the relay that exposes the API server on a loopback port as a
	// process (the demo): the command gets the namespace holder's PID, the listen address and
	// the target appended. Without it the relay runs inside this process (tests).
	RelayCmd []string
	Detach   bool // processes outlive this program (the demo); else they die with it
	Log      Logf
	Timings  *Timings
}

// Local is a one-node cluster in a network and mount namespace of its own (package nodens):
// etcd, kube-apiserver, kube-controller-manager and kube-scheduler, and a node with containerd,
// the kubelet, kube-proxy and kube-router, CoreDNS as its DNS. The host sees only a loopback
// port, relayed to the API server inside.
type Local struct {
	opts       LocalOptions
	kubeconfig string
	ns         *nodens.NS
	node       *node.Node
	procs      []*proc.Process
	stopRelay  context.CancelFunc
	// apiserverArgs are the API server's flags (StartUnaudited starts a twin without audit).
	apiserverArgs []string
}

// PodSecurityAdmissionFile is the API server's AdmissionConfiguration (Pod Security defaults)
// in the repository's k8s/cluster folder, shared by the local cluster and kind.
const PodSecurityAdmissionFile = "pod-security-admission.yaml"

// Names of the control plane's processes, in start order (they are stopped in reverse).
const (
	procEtcd       = "etcd"
	procAPIServer  = "kube-apiserver"
	procKCM        = "kube-controller-manager"
	procScheduler  = "kube-scheduler"
	procRelay      = "apiserver-relay"
	apiserverPort  = "6443"
	etcdClientURL  = "http://127.0.0.1:2379"
	etcdPeerURL    = "http://127.0.0.1:2380"
	localNodeState = "node"
)

//go:embed localrbac.yaml
var localRBAC []byte

//go:embed localaddons.yaml
var localAddons []byte

func (l *Local) Mode() Mode         { return ModeLocal }
func (l *Local) Kubeconfig() string { return l.kubeconfig }

// LoadImages imports images into the node's containerd.
func (l *Local) LoadImages(ctx context.Context, imgs []images.Named) error {
	return l.node.Import(ctx, imgs)
}

// StartLocal brings the local cluster up from nothing (stopping and removing what an earlier
// run left in opts.Dir first) and returns once the node is Ready and CoreDNS answers.
func StartLocal(ctx context.Context, opts LocalOptions) (_ *Local, err error) {
	if opts.Log == nil {
		opts.Log = func(string, ...any) {}
	}
	if opts.Timings == nil {
		opts.Timings = &Timings{}
	}
	for _, b := range []string{opts.Bin.Etcd, opts.Bin.APIServer, opts.Bin.ControllerManager, opts.Bin.Scheduler,
		filepath.Join(opts.ClusterConfig, PodSecurityAdmissionFile)} {
		if _, err := os.Stat(b); err != nil {
			return nil, fmt.Errorf("the local cluster needs %s (tools: `make e2e-tools`; configuration: k8s/cluster): %w", b, err)
		}
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("the local cluster runs a node (namespaces, cgroups, containerd): it needs root; use E2E_CLUSTER=kind where Docker runs")
	}
	if err := StopLocal(opts.Dir, opts.Log); err != nil { // leftovers of an interrupted run
		return nil, fmt.Errorf("clean up an earlier run: %w", err)
	}
	if err := os.RemoveAll(opts.Dir); err != nil {
		return nil, fmt.Errorf("clean %s: %w", opts.Dir, err)
	}
	if err := os.MkdirAll(logDir(opts.Dir), 0o755); err != nil {
		return nil, err
	}
	l := &Local{opts: opts}
	defer func() {
		if err != nil {
			_ = l.Stop(context.Background())
		}
	}()
	done := opts.Timings.Track("namespaces and control plane ready")
	if l.ns, err = nodens.Create(ctx, logDir(opts.Dir), topology.NodeIP, opts.Detach); err != nil {
		return nil, err
	}
	// The namespace has no default route: a connection from the node to a ClusterIP (containerd
	// pulling from the registry, the API server calling a webhook) needs a route to the Service
	// range before kube-proxy's output chain rewrites it to a pod, with the node's address as
	// its source.
	if err := l.ns.Run(ctx, "ip", "route", "add", topology.ServiceCIDR, "dev", "lo", "src", topology.NodeIP); err != nil {
		return nil, err
	}
	inside := "https://" + net.JoinHostPort(topology.NodeIP, apiserverPort)
	p, err := makePKI(filepath.Join(opts.Dir, "pki"), inside)
	if err != nil {
		return nil, err
	}
	if err := l.startControlPlane(ctx, p); err != nil {
		return nil, err
	}
	c, err := kube.FromKubeconfig(l.kubeconfig)
	if err != nil {
		return nil, err
	}
	rbac, err := kube.Decode(localRBAC)
	if err != nil {
		return nil, err
	}
	if err := applyAll(ctx, c, rbac); err != nil {
		return nil, err
	}
	done()
	done = opts.Timings.Track("node: containerd up, images imported")
	l.node, err = node.Start(ctx, l.ns, node.Options{
		Dir: filepath.Join(opts.Dir, localNodeState), LogDir: logDir(opts.Dir), Bin: opts.Bin.Node, CNIBinDir: opts.Bin.CNIBinDir,
		KubeletKubeconfig: p.kubeconfigs["kubelet"], KubeProxyKubeconfig: p.kubeconfigs["kube-proxy"],
		KubeRouterKubeconfig: p.kubeconfigs["kube-router"],
		CAFile:               p.path("ca.crt"), KubeletCert: p.path("kubelet.crt"), KubeletKey: p.path("kubelet.key"),
		Detach: opts.Detach, Log: opts.Log,
	})
	if err != nil {
		return nil, err
	}
	if len(opts.Images) > 0 {
		opts.Log("importing %d images into the node's containerd", len(opts.Images))
		if err := l.node.Import(ctx, opts.Images); err != nil {
			return nil, err
		}
	}
	done()
	done = opts.Timings.Track("node Ready (kubelet, kube-proxy, kube-router)")
	if err := l.node.StartAgents(ctx); err != nil {
		return nil, err
	}
	if err := waitNodeReady(ctx, c); err != nil {
		return nil, err
	}
	if err := l.node.StartNetworkPolicyAgent(ctx); err != nil {
		return nil, err
	}
	done()
	done = opts.Timings.Track("CoreDNS ready, volumes offered")
	addons, err := kube.Decode(localAddons)
	if err != nil {
		return nil, err
	}
	if err := applyAll(ctx, c, addons); err != nil {
		return nil, err
	}
	if err := WaitDeployments(ctx, c, "kube-system", []string{"coredns"}, 2*time.Minute); err != nil {
		return nil, err
	}
	if err := l.offerStorage(ctx, c); err != nil {
		return nil, err
	}
	done()
	return l, nil
}

// localVolumes is how many volumes the node offers to claims without a storage class.
const localVolumes = 3

// offerStorage creates a few hostPath PersistentVolumes under the node's state folder, with no
// storage class, so that a claim without one (the overlay's PostgreSQL) binds to one, as kind's
// local-path provisioner would give it one. Their folders are world-writable with the sticky
// bit, like /tmp: the pod's user makes its own folder inside.
func (l *Local) offerStorage(ctx context.Context, c *kube.Client) error {
	for i := range localVolumes {
		dir := filepath.Join(l.opts.Dir, localNodeState, "pv", strconv.Itoa(i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := os.Chmod(dir, 0o1777); err != nil {
			return err
		}
		hostPathDir := corev1.HostPathDirectory
		pv := &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("local-%d", i), Labels: map[string]string{"platform-template.io/local-volume": "true"}},
			Spec: corev1.PersistentVolumeSpec{
				Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("5Gi")},
				AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
				StorageClassName:              "",
				PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: dir, Type: &hostPathDir}},
			},
		}
		if _, err := c.Typed.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("offer volume %s: %w", pv.Name, err)
		}
	}
	return nil
}

func logDir(dir string) string { return filepath.Join(dir, "logs") }

func (l *Local) start(spec proc.Spec) (*proc.Process, error) {
	spec.Dir, spec.Detach = logDir(l.opts.Dir), l.opts.Detach
	if spec.Wrap == nil {
		spec.Wrap = l.ns.Wrap()
	}
	p, err := proc.Start(spec)
	if err != nil {
		return nil, err
	}
	l.procs = append(l.procs, p)
	l.opts.Log("started %s (pid %d, log %s)", p.Name, p.PID, p.LogPath)
	return p, nil
}

// insideClient is an HTTP client whose connections are opened inside the namespaces.
func (l *Local) insideClient(tlsConfig *tls.Config) *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: l.ns.DialContext, TLSClientConfig: tlsConfig}}
}

func (l *Local) startControlPlane(ctx context.Context, p *localPKI) error {
	etcd, err := l.start(proc.Spec{Name: procEtcd, Path: l.opts.Bin.Etcd, Args: []string{
		"--name=e2e", "--data-dir=" + filepath.Join(l.opts.Dir, "etcd"),
		"--listen-client-urls=" + etcdClientURL, "--advertise-client-urls=" + etcdClientURL,
		"--listen-peer-urls=" + etcdPeerURL, "--initial-advertise-peer-urls=" + etcdPeerURL,
		"--initial-cluster=e2e=" + etcdPeerURL, "--unsafe-no-fsync", "--log-level=info",
	}})
	if err != nil {
		return err
	}
	inside := l.insideClient(nil)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := etcd.WaitFor(wctx, "etcd /health", 50*time.Millisecond, func(ctx context.Context) error {
		return getOK(ctx, inside, etcdClientURL+"/health")
	}); err != nil {
		return err
	}
	audit, err := localAuditArgs(filepath.Join(l.opts.ClusterConfig, AuditPolicyFile), l.opts.Dir)
	if err != nil {
		return err
	}
	l.apiserverArgs = append([]string{
		"--etcd-servers=" + etcdClientURL,
		"--bind-address=" + topology.NodeIP, "--advertise-address=" + topology.NodeIP, "--secure-port=" + apiserverPort,
		"--tls-cert-file=" + p.path("apiserver.crt"), "--tls-private-key-file=" + p.path("apiserver.key"),
		"--client-ca-file=" + p.path("ca.crt"),
		"--kubelet-client-certificate=" + p.path("apiserver-kubelet-client.crt"),
		"--kubelet-client-key=" + p.path("apiserver-kubelet-client.key"),
		"--kubelet-certificate-authority=" + p.path("ca.crt"),
		"--kubelet-preferred-address-types=InternalIP",
		"--service-account-key-file=" + p.path("sa.pub"), "--service-account-signing-key-file=" + p.path("sa.key"),
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-cluster-ip-range=" + topology.ServiceCIDR,
		"--authorization-mode=Node,RBAC",
		// Pod Security (not the API server's own validation) must be what refuses privileged pods.
		"--allow-privileged=true",
		"--enable-admission-plugins=NamespaceLifecycle,ServiceAccount,NodeRestriction,PodSecurity,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ResourceQuota",
		// Pod Security "restricted" by default in every namespace, with the named exemptions.
		"--admission-control-config-file=" + filepath.Join(l.opts.ClusterConfig, PodSecurityAdmissionFile),
		"--profiling=false", "--enable-priority-and-fairness=false", "--v=0",
	}, audit...)
	api, err := l.start(proc.Spec{Name: procAPIServer, Path: l.opts.Bin.APIServer, Args: l.apiserverArgs})
	if err != nil {
		return err
	}
	cert, err := tls.X509KeyPair(p.admin.CertPEM, p.admin.KeyPEM)
	if err != nil {
		return fmt.Errorf("admin certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.caPEM)
	admin := l.insideClient(&tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12})
	inURL := "https://" + net.JoinHostPort(topology.NodeIP, apiserverPort)
	wctx2, cancel2 := context.WithTimeout(ctx, 90*time.Second)
	defer cancel2()
	if err := api.WaitFor(wctx2, "kube-apiserver /readyz", 100*time.Millisecond, func(ctx context.Context) error {
		return getOK(ctx, admin, inURL+"/readyz")
	}); err != nil {
		return err
	}
	relayAddr, err := l.startRelay(ctx, net.JoinHostPort(topology.NodeIP, apiserverPort))
	if err != nil {
		return err
	}
	l.kubeconfig = filepath.Join(l.opts.Dir, "kubeconfig")
	if err := writeKubeconfig(l.kubeconfig, "https://"+relayAddr, p.caPEM, p.admin); err != nil {
		return err
	}
	for _, c := range []struct {
		name, path string
		args       []string
	}{
		{procKCM, l.opts.Bin.ControllerManager, []string{
			"--kubeconfig=" + p.kubeconfigs["kube-controller-manager"],
			"--authentication-kubeconfig=" + p.kubeconfigs["kube-controller-manager"],
			"--authorization-kubeconfig=" + p.kubeconfigs["kube-controller-manager"],
			"--bind-address=127.0.0.1", "--secure-port=10257",
			"--allocate-node-cidrs=true", "--cluster-cidr=" + topology.ClusterCIDR, "--node-cidr-mask-size=24",
			"--service-cluster-ip-range=" + topology.ServiceCIDR,
			"--root-ca-file=" + p.path("ca.crt"), "--service-account-private-key-file=" + p.path("sa.key"),
			"--use-service-account-credentials=true", "--leader-elect=false", "--configure-cloud-routes=false",
			"--v=0",
		}},
		{procScheduler, l.opts.Bin.Scheduler, []string{
			"--kubeconfig=" + p.kubeconfigs["kube-scheduler"],
			"--authentication-kubeconfig=" + p.kubeconfigs["kube-scheduler"],
			"--authorization-kubeconfig=" + p.kubeconfigs["kube-scheduler"],
			"--bind-address=127.0.0.1", "--secure-port=10259", "--leader-elect=false", "--v=0",
		}},
	} {
		if _, err := l.start(proc.Spec{Name: c.name, Path: c.path, Args: c.args}); err != nil {
			return err
		}
	}
	return nil
}

// startRelay exposes the API server (inside the namespaces) on a free loopback port of the
// host, in this process or, for the demo, as a process of its own; it returns host:port.
func (l *Local) startRelay(ctx context.Context, target string) (string, error) {
	if len(l.opts.RelayCmd) == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("listen for the API server relay: %w", err)
		}
		rctx, cancel := context.WithCancel(context.Background())
		l.stopRelay = cancel
		go l.ns.Relay(rctx, ln, target)
		return ln.Addr().String(), nil
	}
	ports, err := FreePorts(1)
	if err != nil {
		return "", err
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	p, err := l.start(proc.Spec{Name: procRelay, Path: l.opts.RelayCmd[0], Wrap: []string{},
		Args: append(append([]string{}, l.opts.RelayCmd[1:]...), strconv.Itoa(l.ns.PID), addr, target)})
	if err != nil {
		return "", err
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err = p.WaitFor(wctx, "the API server relay", 50*time.Millisecond, func(ctx context.Context) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			_ = c.Close()
		}
		return err
	})
	return addr, err
}

func waitNodeReady(ctx context.Context, c *kube.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return kube.Poll(ctx, "node "+topology.NodeName+" Ready", 250*time.Millisecond, func(ctx context.Context) error {
		n, err := c.Typed.CoreV1().Nodes().Get(ctx, topology.NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady {
				if cond.Status == corev1.ConditionTrue {
					return nil
				}
				return fmt.Errorf("condition Ready is %s: %s", cond.Status, cond.Message)
			}
		}
		return errors.New("no Ready condition yet")
	})
}

// Stop stops the node (its agents, containers and containerd), then the control plane, each
// by its PID, destroys the namespaces and removes the node's state (the logs stay).
func (l *Local) Stop(ctx context.Context) error {
	var errs []error
	if l.node != nil {
		errs = append(errs, l.node.Stop(ctx))
		l.node = nil
	}
	for i := len(l.procs) - 1; i >= 0; i-- {
		errs = append(errs, l.procs[i].Stop(10*time.Second))
	}
	l.procs = nil
	if l.stopRelay != nil {
		l.stopRelay()
	}
	if l.ns != nil {
		errs = append(errs, l.ns.Destroy(10*time.Second))
	}
	errs = append(errs, node.Cleanup(filepath.Join(l.opts.Dir, localNodeState)))
	return errors.Join(errs...)
}

// StopLocal stops whatever a run left in dir (found by its PID files and its namespaces'
// record) and removes the node's state: the demo's `down`, and the start of every run.
func StopLocal(dir string, log Logf) error {
	logs := logDir(dir)
	var errs []error
	if p, ok := proc.Find(logs, procRelay); ok {
		log("stopping %s (pid %d)", procRelay, p.PID)
		errs = append(errs, p.Stop(5*time.Second))
	}
	errs = append(errs, node.Teardown(filepath.Join(dir, localNodeState), logs, log))
	for _, name := range []string{procScheduler, procKCM, procAPIServerUnaudited, procAPIServer, procEtcd} {
		if p, ok := proc.Find(logs, name); ok {
			log("stopping %s (pid %d)", name, p.PID)
			errs = append(errs, p.Stop(10*time.Second))
		}
	}
	if ns, ok := nodens.Find(logs); ok {
		if m := ns.Members(); len(m) > 0 {
			log("stopping %d processes left in the node's namespaces", len(m))
		}
		errs = append(errs, ns.Destroy(10*time.Second))
	}
	errs = append(errs, node.Cleanup(filepath.Join(dir, localNodeState)))
	return errors.Join(errs...)
}

// LocalLeftovers lists what a stopped local cluster in dir left behind (see node.Leftovers).
func LocalLeftovers(dir string) []string {
	return node.Leftovers(filepath.Join(dir, localNodeState), logDir(dir))
}

func getOK(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// FreePorts asks the kernel for n distinct free loopback ports.
func FreePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
