package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/platform-template/template-api/test/e2e/internal/pki"
	"github.com/platform-template/template-api/test/e2e/internal/proc"
)

// Binaries are the programs of the local control plane, built from the pinned tools/ modules.
type Binaries struct {
	Etcd              string
	APIServer         string
	KyvernoAdmission  string
	KyvernoBackground string
}

// LocalOptions configure a local control plane.
type LocalOptions struct {
	Dir           string   // state: certificates, etcd data, logs, PID files
	Bin           Binaries // the programs
	KyvernoSource string   // the Kyverno module's source folder (config/crds, install manifest)
	// ClusterConfig is the repository's k8s/cluster folder: the API server's admission
	// configuration (Pod Security defaults) and Kyverno's ConfigMap.
	ClusterConfig string
	// RegistryCmd, when set, runs the registry as a process (the demo): the command gets the
	// two listen addresses appended. Without it the registry runs inside this process (tests).
	RegistryCmd []string
	Detach      bool // processes outlive this program (the demo); else they die with it
	Log         Logf
	Timings     *Timings
}

// Local is etcd, kube-apiserver, Kyverno's admission and background controllers and an OCI
// registry, all on loopback.
type Local struct {
	opts       LocalOptions
	state      localState
	procs      []*proc.Process
	stopInProc func(context.Context) error
}

// localState is where the running cluster answers.
type localState struct {
	Kubeconfig string
	APIServer  string // https://127.0.0.1:<port>
	Registry   string // 127.0.0.1:<port>
}

// Names of the processes, in start order (they are stopped in reverse).
const (
	procEtcd       = "etcd"
	procAPIServer  = "kube-apiserver"
	procRegistry   = "registry"
	procKyverno    = "kyverno-admission"
	procBackground = "kyverno-background"
)

func (l *Local) Mode() Mode         { return ModeLocal }
func (l *Local) Kubeconfig() string { return l.state.Kubeconfig }
func (l *Local) RunsPods() bool     { return false }
func (l *Local) Registry() string   { return l.state.Registry }

// StartLocal brings the local control plane up from nothing (removing what an earlier run left
// in opts.Dir first) and returns once Kyverno answers its readiness probe.
func StartLocal(ctx context.Context, opts LocalOptions) (_ *Local, err error) {
	if opts.Log == nil {
		opts.Log = func(string, ...any) {}
	}
	if opts.Timings == nil {
		opts.Timings = &Timings{}
	}
	for _, b := range []string{opts.Bin.Etcd, opts.Bin.APIServer, opts.Bin.KyvernoAdmission, opts.Bin.KyvernoBackground,
		filepath.Join(opts.ClusterConfig, PodSecurityAdmissionFile), filepath.Join(opts.ClusterConfig, KyvernoConfigFile)} {
		if _, err := os.Stat(b); err != nil {
			return nil, fmt.Errorf("local control plane needs %s (tools: `make e2e-tools`; configuration: k8s/cluster): %w", b, err)
		}
	}
	StopLocal(opts.Dir, opts.Log) // leftovers of an interrupted run, by their PID files
	if err := os.RemoveAll(opts.Dir); err != nil {
		return nil, fmt.Errorf("clean %s: %w", opts.Dir, err)
	}
	l := &Local{opts: opts}
	defer func() {
		if err != nil {
			_ = l.Stop(context.Background())
		}
	}()
	done := opts.Timings.Track("control plane ready (etcd + apiserver)")
	if err := l.startControlPlane(ctx); err != nil {
		return nil, err
	}
	done()
	done = opts.Timings.Track("registry up")
	if err := l.startRegistry(ctx); err != nil {
		return nil, err
	}
	done()
	if err := l.startKyverno(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

// Stop stops every process this cluster started, in reverse order, each by its PID.
func (l *Local) Stop(ctx context.Context) error {
	var errs []error
	if l.stopInProc != nil {
		errs = append(errs, l.stopInProc(ctx))
	}
	for i := len(l.procs) - 1; i >= 0; i-- {
		errs = append(errs, l.procs[i].Stop(10*time.Second))
	}
	l.procs = nil
	return errors.Join(errs...)
}

// StopLocal stops whatever processes a run left in dir, found by their PID files (each only if
// the PID still runs the binary recorded there).
func StopLocal(dir string, log Logf) {
	logs := filepath.Join(dir, "logs")
	for _, name := range []string{procBackground, procKyverno, procRegistry, procAPIServer, procEtcd} {
		if p, ok := proc.Find(logs, name); ok {
			log("stopping %s (pid %d)", name, p.PID)
			_ = p.Stop(10 * time.Second)
		}
	}
}

func (l *Local) logDir() string { return filepath.Join(l.opts.Dir, "logs") }

func (l *Local) start(spec proc.Spec) (*proc.Process, error) {
	spec.Dir, spec.Detach = l.logDir(), l.opts.Detach
	p, err := proc.Start(spec)
	if err != nil {
		return nil, err
	}
	l.procs = append(l.procs, p)
	l.opts.Log("started %s (pid %d, log %s)", p.Name, p.PID, p.LogPath)
	return p, nil
}

func (l *Local) startControlPlane(ctx context.Context) error {
	pkiDir := filepath.Join(l.opts.Dir, "pki")
	ca, err := pki.NewCA("template-api-e2e-ca")
	if err != nil {
		return err
	}
	serving, err := ca.Serving("kube-apiserver", []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.0.0.1")},
		[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"})
	if err != nil {
		return err
	}
	admin, err := ca.Client("e2e-admin", "system:masters")
	if err != nil {
		return err
	}
	saCA, err := pki.NewCA("service-accounts") // only its key is used: it signs ServiceAccount tokens
	if err != nil {
		return err
	}
	saKey, err := pki.PrivateKeyPEM(saCA.Key)
	if err != nil {
		return err
	}
	saPub, err := pki.PublicKeyPEM(&saCA.Key.PublicKey)
	if err != nil {
		return err
	}
	if err := pki.WriteFiles(pkiDir, map[string][]byte{
		"ca.crt": ca.CertPEM(), "apiserver.crt": serving.CertPEM, "apiserver.key": serving.KeyPEM,
		"admin.crt": admin.CertPEM, "admin.key": admin.KeyPEM, "sa.key": saKey, "sa.pub": saPub,
	}); err != nil {
		return err
	}
	ports, err := FreePorts(3)
	if err != nil {
		return err
	}
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	etcd, err := l.start(proc.Spec{Name: procEtcd, Path: l.opts.Bin.Etcd, Args: []string{
		"--name=e2e", "--data-dir=" + filepath.Join(l.opts.Dir, "etcd"),
		"--listen-client-urls=" + etcdURL, "--advertise-client-urls=" + etcdURL,
		"--listen-peer-urls=" + peerURL, "--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=e2e=" + peerURL, "--unsafe-no-fsync", "--log-level=warn",
	}})
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := etcd.WaitFor(wctx, "etcd /health", 50*time.Millisecond, func(ctx context.Context) error {
		return getOK(ctx, http.DefaultClient, etcdURL+"/health")
	}); err != nil {
		return err
	}
	l.state.APIServer = fmt.Sprintf("https://127.0.0.1:%d", ports[2])
	p := func(name string) string { return filepath.Join(pkiDir, name) }
	api, err := l.start(proc.Spec{Name: procAPIServer, Path: l.opts.Bin.APIServer, Args: []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port=" + strconv.Itoa(ports[2]),
		"--tls-cert-file=" + p("apiserver.crt"), "--tls-private-key-file=" + p("apiserver.key"),
		"--client-ca-file=" + p("ca.crt"),
		"--service-account-key-file=" + p("sa.pub"), "--service-account-signing-key-file=" + p("sa.key"),
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--authorization-mode=RBAC",
		// Pod Security (not the API server's own validation) must be what refuses privileged pods.
		"--allow-privileged=true",
		"--enable-admission-plugins=NamespaceLifecycle,ServiceAccount,PodSecurity,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ResourceQuota",
		// Pod Security "restricted" by default in every namespace, with the named exemptions.
		"--admission-control-config-file=" + filepath.Join(l.opts.ClusterConfig, PodSecurityAdmissionFile),
		// No kubelet and no controller-manager: nothing reconciles the kubernetes Service's endpoints.
		"--endpoint-reconciler-type=none",
		"--profiling=false", "--enable-priority-and-fairness=false", "--v=0",
	}})
	if err != nil {
		return err
	}
	client, err := l.adminHTTP()
	if err != nil {
		return err
	}
	wctx2, cancel2 := context.WithTimeout(ctx, 60*time.Second)
	defer cancel2()
	if err := api.WaitFor(wctx2, "kube-apiserver /readyz", 100*time.Millisecond, func(ctx context.Context) error {
		return getOK(ctx, client, l.state.APIServer+"/readyz")
	}); err != nil {
		return err
	}
	l.state.Kubeconfig = filepath.Join(l.opts.Dir, "kubeconfig")
	return writeKubeconfig(l.state.Kubeconfig, l.state.APIServer, ca.CertPEM(), admin)
}

// adminHTTP is an HTTP client that presents the admin certificate and trusts the run's CA.
func (l *Local) adminHTTP() (*http.Client, error) {
	pkiDir := filepath.Join(l.opts.Dir, "pki")
	cert, err := tls.LoadX509KeyPair(filepath.Join(pkiDir, "admin.crt"), filepath.Join(pkiDir, "admin.key"))
	if err != nil {
		return nil, fmt.Errorf("load admin certificate: %w", err)
	}
	caPEM, err := os.ReadFile(filepath.Join(pkiDir, "ca.crt"))
	if err != nil {
		return nil, fmt.Errorf("read CA: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12},
	}}, nil
}

func writeKubeconfig(path, server string, caPEM []byte, admin pki.KeyPair) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["local"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: admin.CertPEM, ClientKeyData: admin.KeyPEM}
	cfg.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "admin"}
	cfg.CurrentContext = "local"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
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
	defer resp.Body.Close()
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
			ln.Close()
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
