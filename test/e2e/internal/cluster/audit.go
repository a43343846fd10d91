package cluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	kindcluster "sigs.k8s.io/kind/pkg/cluster"

	"github.com/platform-template/template-api/test/e2e/internal/proc"
	"github.com/platform-template/template-api/test/e2e/internal/topology"
)

// AuditPolicyFile is the cluster's audit policy, in the repository's k8s/cluster folder (the
// ClusterConfig both the local control plane and the kind node read): one file for both.
const AuditPolicyFile = "audit-policy.yaml"

// Where the audit log lives in a kind node (and, through a hostPath volume, in its API
// server's static pod).
const (
	kindAuditLogDir = "/var/log/kubernetes/audit"
	auditLogName    = "audit.log"
)

// Rotation: the API server rolls the log over at auditMaxSizeMB and keeps auditMaxBackups older
// files for at most auditMaxAgeDays (a suite or a demo writes a few tens of MB at most).
const (
	auditMaxSizeMB  = 100
	auditMaxBackups = 5
	auditMaxAgeDays = 7
)

// auditFlags are kube-apiserver's audit settings for a policy file and a log file, in order:
// JSON lines, written before the answer is sent (blocking), rotated.
func auditFlags(policy, logPath string) [][2]string {
	return [][2]string{
		{"audit-policy-file", policy},
		{"audit-log-path", logPath},
		{"audit-log-format", "json"},
		{"audit-log-mode", "blocking"},
		{"audit-log-maxsize", fmt.Sprint(auditMaxSizeMB)},
		{"audit-log-maxbackup", fmt.Sprint(auditMaxBackups)},
		{"audit-log-maxage", fmt.Sprint(auditMaxAgeDays)},
	}
}

// localAuditDir is the audit log folder in a cluster's state folder: where the local cluster's
// API server writes it (kept when the cluster stops, like the other logs), and where a kind
// cluster's log is copied before the cluster is deleted.
func localAuditDir(dir string) string { return filepath.Join(logDir(dir), "audit") }

// localAuditArgs are the local API server's audit flags; it fails if the policy is missing (the
// API server would refuse to start, later and less clearly).
func localAuditArgs(policy, dir string) ([]string, error) {
	if policy == "" {
		return nil, fmt.Errorf("the local cluster needs its audit policy (%s)", AuditPolicyFile)
	}
	if _, err := os.Stat(policy); err != nil {
		return nil, fmt.Errorf("the audit policy: %w", err)
	}
	if err := os.MkdirAll(localAuditDir(dir), 0o700); err != nil {
		return nil, fmt.Errorf("create the audit log folder: %w", err)
	}
	var args []string
	for _, f := range auditFlags(policy, filepath.Join(localAuditDir(dir), auditLogName)) {
		args = append(args, "--"+f[0]+"="+f[1])
	}
	return args, nil
}

// kindAuditArgs are the API server's audit flags for kind's kubeadm patch (extraArgs, a map in
// kubeadm's v1beta3), indented to sit under extraArgs: the policy in the node's copy of the
// k8s/cluster folder, the log in a folder of the node.
func kindAuditArgs(indent string) string {
	var b strings.Builder
	for _, f := range auditFlags(path.Join(kindNodeClusterConfig, AuditPolicyFile), path.Join(kindAuditLogDir, auditLogName)) {
		fmt.Fprintf(&b, "%s%s: %q\n", indent, f[0], f[1])
	}
	return b.String()
}

// kindAuditVolume is the extraVolume that lets the API server's static pod write the log into
// the node's folder (the policy comes with the k8s/cluster folder's volume).
func kindAuditVolume(indent string) string {
	return fmt.Sprintf(`%[1]s- name: audit-log
%[1]s  hostPath: %[2]s
%[1]s  mountPath: %[2]s
%[1]s  readOnly: false
%[1]s  pathType: DirectoryOrCreate
`, indent, kindAuditLogDir)
}

// AuditLog returns the local cluster's audit log, every file oldest first (the rotated ones,
// then the current one), while it runs and after it stopped.
func (l *Local) AuditLog(context.Context) (io.ReadCloser, error) {
	return ReadSavedAuditLog(l.opts.Dir)
}

// ReadSavedAuditLog reads the audit log kept in a cluster's state folder dir: the one a local
// cluster writes there, or the copy a kind cluster leaves there when it is deleted.
func ReadSavedAuditLog(dir string) (io.ReadCloser, error) {
	files, err := filepath.Glob(filepath.Join(localAuditDir(dir), "audit*.log"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no audit log in %s (was the cluster started by this version?)", localAuditDir(dir))
	}
	slices.SortFunc(files, compareAuditFiles)
	var readers []io.Reader
	var closers []io.Closer
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			for _, c := range closers {
				_ = c.Close()
			}
			return nil, fmt.Errorf("open the audit log: %w", err)
		}
		readers, closers = append(readers, fh), append(closers, fh)
	}
	return multiReadCloser{Reader: io.MultiReader(readers...), closers: closers}, nil
}

// compareAuditFiles orders the rotated files (audit-<timestamp>.log, oldest first) before the
// current audit.log.
func compareAuditFiles(a, b string) int {
	ca, cb := filepath.Base(a) == auditLogName, filepath.Base(b) == auditLogName
	switch {
	case ca && !cb:
		return 1
	case cb && !ca:
		return -1
	}
	return strings.Compare(a, b)
}

type multiReadCloser struct {
	io.Reader
	closers []io.Closer
}

func (m multiReadCloser) Close() error {
	var first error
	for _, c := range m.closers {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// AuditLog returns the kind cluster's audit log, read from its control-plane node (`cat` in
// the node container: the files are root's, and a hostPath mount would not let a non-root
// user on the host read them).
func (k *Kind) AuditLog(context.Context) (io.ReadCloser, error) {
	return ReadKindAuditLog(k.opts.Name)
}

// ReadKindAuditLog reads the audit log of the kind cluster called name.
func ReadKindAuditLog(name string) (io.ReadCloser, error) {
	nodes, err := kindcluster.NewProvider().ListNodes(name)
	if err != nil {
		return nil, fmt.Errorf("list kind nodes: %w", err)
	}
	for _, n := range nodes {
		role, err := n.Role()
		if err != nil || role != "control-plane" {
			continue
		}
		var out, stderr bytes.Buffer
		// The shell's glob sorts audit-<timestamp>.log (rotated, oldest first) before audit.log.
		cmd := n.Command("sh", "-c", "cat "+kindAuditLogDir+"/audit*.log")
		if err := cmd.SetStdout(&out).SetStderr(&stderr).Run(); err != nil {
			return nil, fmt.Errorf("read the audit log on kind node %s: %w: %s", n.String(), err, strings.TrimSpace(stderr.String()))
		}
		return io.NopCloser(&out), nil
	}
	return nil, fmt.Errorf("kind cluster %s has no control-plane node", name)
}

// saveAuditLog copies the kind cluster's audit log into its state folder before the cluster is
// deleted, so that it can be read afterwards as the local cluster's can.
func (k *Kind) saveAuditLog() error {
	r, err := k.AuditLog(context.Background())
	if err != nil {
		return err
	}
	defer func() { _ = r.Close() }()
	dir := localAuditDir(k.opts.Dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, auditLogName), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		_ = f.Close()
		return fmt.Errorf("save the kind cluster's audit log: %w", err)
	}
	return f.Close()
}

// The unaudited twin of the local API server (StartUnaudited).
const (
	procAPIServerUnaudited = "kube-apiserver-unaudited"
	unauditedPort          = "6444"
)

// StartUnaudited starts a second API server beside the local cluster's, on the same etcd and
// with the same flags but no audit log (and leaving the kubernetes Service's endpoints to the
// cluster's own), and returns a client configuration for it: the tests compare what a request
// costs with and without the audit log, against the same storage and the same admission
// webhooks. stop stops it (the cluster's Stop does too, should a test end first).
func (l *Local) StartUnaudited(ctx context.Context) (_ *rest.Config, stop func(), err error) {
	if len(l.apiserverArgs) == 0 {
		return nil, nil, fmt.Errorf("the cluster's API server is not running")
	}
	var args []string
	for _, a := range l.apiserverArgs {
		switch {
		case strings.HasPrefix(a, "--audit-"):
			continue
		case strings.HasPrefix(a, "--secure-port="):
			a = "--secure-port=" + unauditedPort
		}
		args = append(args, a)
	}
	args = append(args, "--endpoint-reconciler-type=none")
	p, err := l.start(proc.Spec{Name: procAPIServerUnaudited, Path: l.opts.Bin.APIServer, Args: args})
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = p.Stop(10 * time.Second)
		return nil, nil, fmt.Errorf("listen for the unaudited API server's relay: %w", err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	go l.ns.Relay(rctx, ln, net.JoinHostPort(topology.NodeIP, unauditedPort))
	stop = func() {
		cancel()
		_ = p.Stop(10 * time.Second)
		l.procs = slices.DeleteFunc(l.procs, func(q *proc.Process) bool { return q == p })
	}
	defer func() {
		if err != nil {
			stop()
		}
	}()
	cfg, err := clientcmd.BuildConfigFromFlags("", l.kubeconfig)
	if err != nil {
		return nil, nil, fmt.Errorf("the admin kubeconfig: %w", err)
	}
	cfg.Host = "https://" + ln.Addr().String()
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	wctx, cancelWait := context.WithTimeout(ctx, 90*time.Second)
	defer cancelWait()
	if err := p.WaitFor(wctx, "the unaudited kube-apiserver /readyz", 200*time.Millisecond, func(ctx context.Context) error {
		_, err := client.CoreV1().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err
	}); err != nil {
		return nil, nil, err
	}
	return cfg, stop, nil
}
