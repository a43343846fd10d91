package cluster

import (
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platform-template/template-api/test/internal/repo"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/yaml"
)

// hostPathMount is one of kubeadm's extraVolumes.
type hostPathMount struct {
	Name      string `json:"name"`
	HostPath  string `json:"hostPath"`
	MountPath string `json:"mountPath"`
	ReadOnly  bool   `json:"readOnly"`
	PathType  string `json:"pathType"`
}

// kubeadmPatch is the part of kubeadm's v1beta3 ClusterConfiguration the kind patch sets.
type kubeadmPatch struct {
	Kind      string `json:"kind"`
	APIServer struct {
		ExtraArgs    map[string]string `json:"extraArgs"`
		ExtraVolumes []hostPathMount   `json:"extraVolumes"`
	} `json:"apiServer"`
}

// TestAuditPolicyIsTheSameFileInBothModes: the local API server's --audit-policy-file is the
// repository's k8s/cluster/audit-policy.yaml, and the kind configuration mounts that same folder
// into the node, where kubeadm's patch hands the same file to the API server (a read-only volume
// of the folder, the flag naming the file in it) and a writable folder for the log; both write
// the same rotation settings.
func TestAuditPolicyIsTheSameFileInBothModes(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "k8s", "cluster")
	policy := filepath.Join(dir, AuditPolicyFile)
	if _, err := os.Stat(policy); err != nil {
		t.Fatal(err)
	}

	args, err := localAuditArgs(policy, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	local := map[string]string{}
	for _, a := range args {
		k, v, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		local[k] = v
	}
	if local["audit-policy-file"] != policy {
		t.Errorf("local: --audit-policy-file=%s, want the repository's %s", local["audit-policy-file"], policy)
	}

	var cfg v1alpha4.Cluster
	if err := yaml.UnmarshalStrict([]byte(kindConfig(dir)), &cfg); err != nil {
		t.Fatalf("the kind configuration does not decode as kind's v1alpha4 Cluster: %v", err)
	}
	var mount *v1alpha4.Mount
	var patches []string
	for i, n := range cfg.Nodes {
		if n.Role != v1alpha4.ControlPlaneRole {
			continue
		}
		patches = append(patches, n.KubeadmConfigPatches...)
		for j, m := range n.ExtraMounts {
			if m.HostPath == dir {
				mount = &cfg.Nodes[i].ExtraMounts[j]
			}
		}
	}
	if mount == nil {
		t.Fatalf("kind: no extraMount of %s on the control-plane node", dir)
	}
	if !mount.Readonly {
		t.Errorf("kind: the policy's folder is mounted writable")
	}
	if len(patches) != 1 {
		t.Fatalf("kind: %d kubeadm patches, want one", len(patches))
	}
	var patch kubeadmPatch
	if err := yaml.UnmarshalStrict([]byte(patches[0]), &patch); err != nil {
		t.Fatalf("kind: the kubeadm patch: %v", err)
	}
	if patch.Kind != "ClusterConfiguration" {
		t.Errorf("kind: the patch is for %q, want ClusterConfiguration", patch.Kind)
	}
	kind := patch.APIServer.ExtraArgs
	if want := path.Join(mount.ContainerPath, AuditPolicyFile); kind["audit-policy-file"] != want {
		t.Errorf("kind: --audit-policy-file=%s, but the repository's file is mounted at %s", kind["audit-policy-file"], want)
	}
	mounted := func(p string, writable bool) bool {
		for _, v := range patch.APIServer.ExtraVolumes {
			if v.HostPath == path.Dir(p) && v.MountPath == path.Dir(p) && v.ReadOnly != writable {
				return true
			}
		}
		return false
	}
	if !mounted(kind["audit-policy-file"], false) {
		t.Errorf("kind: the API server's pod does not get %s read-only", path.Dir(kind["audit-policy-file"]))
	}
	if !mounted(kind["audit-log-path"], true) {
		t.Errorf("kind: the API server's pod cannot write %s", path.Dir(kind["audit-log-path"]))
	}
	audit := 0
	for k, v := range kind {
		if !strings.HasPrefix(k, "audit-") {
			continue
		}
		audit++
		if k != "audit-policy-file" && k != "audit-log-path" && local[k] != v {
			t.Errorf("--%s: kind %q, local %q", k, v, local[k])
		}
	}
	if audit != len(local) {
		t.Errorf("kind sets %d audit flags, local %d", audit, len(local))
	}
}

// TestSavedAuditLogIsReadOldestFirst: the rotated files (audit-<time>.log) come before the
// current one, in time order.
func TestSavedAuditLogIsReadOldestFirst(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(localAuditDir(dir), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"audit.log": "3\n", "audit-2026-12-02T08-20-50.123.log": "2\n", "audit-2026-12-01T23-59-59.000.log": "1\n",
		"other.log": "x\n",
	} {
		if err := os.WriteFile(filepath.Join(localAuditDir(dir), name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r, err := ReadSavedAuditLog(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "1\n2\n3\n" {
		t.Errorf("read %q, want the three audit files oldest first", b)
	}
	if _, err := ReadSavedAuditLog(t.TempDir()); err == nil {
		t.Error("no error for a folder without an audit log")
	}
}
