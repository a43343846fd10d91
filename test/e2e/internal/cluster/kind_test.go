package cluster

import (
	"strings"
	"testing"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/yaml"
)

// TestKindConfigCarriesTheAdmissionConfiguration: kind cannot run on every machine the tests run
// on, so its configuration is checked here: it decodes strictly as kind's v1alpha4 Cluster,
// mounts the repository's k8s/cluster folder into the control-plane node, and its kubeadm patch
// (kubeadm v1beta3, which kind v0.30 writes) points the API server at the Pod Security
// configuration inside a volume of the same folder.
func TestKindConfigCarriesTheAdmissionConfiguration(t *testing.T) {
	const dir = "/home/someone/template-api/k8s/cluster"
	var c v1alpha4.Cluster
	if err := yaml.UnmarshalStrict([]byte(kindConfig(dir)), &c); err != nil {
		t.Fatalf("kind configuration does not decode: %v\n%s", err, kindConfig(dir))
	}
	if len(c.Nodes) != 1 || c.Nodes[0].Role != v1alpha4.ControlPlaneRole {
		t.Fatalf("nodes %+v, want one control-plane node", c.Nodes)
	}
	node := c.Nodes[0]
	if len(node.ExtraMounts) != 1 || node.ExtraMounts[0].HostPath != dir || node.ExtraMounts[0].ContainerPath != kindNodeClusterConfig || !node.ExtraMounts[0].Readonly {
		t.Errorf("extraMounts %+v, want %s read-only at %s", node.ExtraMounts, dir, kindNodeClusterConfig)
	}
	if len(node.KubeadmConfigPatches) != 1 {
		t.Fatalf("kubeadmConfigPatches %v, want one", node.KubeadmConfigPatches)
	}
	var patch struct {
		Kind      string `json:"kind"`
		APIServer struct {
			ExtraArgs    map[string]string `json:"extraArgs"`
			ExtraVolumes []struct {
				Name, HostPath, MountPath, PathType string
				ReadOnly                            bool
			} `json:"extraVolumes"`
		} `json:"apiServer"`
	}
	if err := yaml.UnmarshalStrict([]byte(node.KubeadmConfigPatches[0]), &patch); err != nil {
		t.Fatalf("kubeadm patch does not decode: %v", err)
	}
	file := patch.APIServer.ExtraArgs["admission-control-config-file"]
	if patch.Kind != "ClusterConfiguration" || file != kindNodeClusterConfig+"/"+PodSecurityAdmissionFile {
		t.Errorf("patch kind %q, admission-control-config-file %q", patch.Kind, file)
	}
	mounted := false
	for _, v := range patch.APIServer.ExtraVolumes {
		if v.HostPath == kindNodeClusterConfig && strings.HasPrefix(file, v.MountPath+"/") && v.ReadOnly {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("no read-only extraVolume gives the API server %s: %+v", file, patch.APIServer.ExtraVolumes)
	}
	if len(c.ContainerdConfigPatches) != 1 || !strings.Contains(c.ContainerdConfigPatches[0], "/etc/containerd/certs.d") {
		t.Errorf("containerdConfigPatches %v lost the registry configuration", c.ContainerdConfigPatches)
	}
}
