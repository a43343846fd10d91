package cluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	kindcluster "sigs.k8s.io/kind/pkg/cluster"
)

// AuditPolicyFile is the cluster's audit policy, relative to the repository root: the one file
// both the local control plane and the kind cluster give their API server.
const AuditPolicyFile = "k8s/cluster/audit-policy.yaml"

// Where the audit policy and log live in a kind node (and, through hostPath volumes, in its
// API server's static pod).
const (
	kindAuditPolicyDir = "/etc/kubernetes/audit"
	kindAuditPolicy    = kindAuditPolicyDir + "/audit-policy.yaml"
	kindAuditLogDir    = "/var/log/kubernetes/audit"
	auditLogName       = "audit.log"
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

// kindAuditNode is the control-plane node's part of the kind configuration: the repository's
// policy file mounted read-only into the node (an absolute path: kind resolves relative ones
// against its working folder).
func kindAuditNode(policy string) string {
	return fmt.Sprintf(`    extraMounts:
      - hostPath: %q
        containerPath: %s
        readOnly: true
`, policy, kindAuditPolicy)
}

// kindAuditPatch is the kubeadm ClusterConfiguration patch (kind v0.30 writes kubeadm's
// v1beta3, whose extraArgs are a map): the API server's audit flags, and the node's policy
// folder (read-only) and log folder mounted into its static pod.
func kindAuditPatch() string {
	var b strings.Builder
	b.WriteString("kubeadmConfigPatches:\n  - |\n    kind: ClusterConfiguration\n    apiServer:\n      extraArgs:\n")
	for _, f := range auditFlags(kindAuditPolicy, path.Join(kindAuditLogDir, auditLogName)) {
		fmt.Fprintf(&b, "        %s: %q\n", f[0], f[1])
	}
	fmt.Fprintf(&b, `      extraVolumes:
        - name: audit-policy
          hostPath: %s
          mountPath: %s
          readOnly: true
          pathType: Directory
        - name: audit-log
          hostPath: %s
          mountPath: %s
          readOnly: false
          pathType: DirectoryOrCreate
`, kindAuditPolicyDir, kindAuditPolicyDir, kindAuditLogDir, kindAuditLogDir)
	return b.String()
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
				c.Close()
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
	defer r.Close()
	dir := localAuditDir(k.opts.Dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, auditLogName), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("save the kind cluster's audit log: %w", err)
	}
	return f.Close()
}
