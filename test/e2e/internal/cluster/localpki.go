package cluster

import (
	"fmt"
	"net"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/platform-template/template-api/test/e2e/internal/pki"
	"github.com/platform-template/template-api/test/e2e/internal/topology"
)

// Identities of the local cluster's components: each has its own client certificate from the
// run's CA, and RBAC (the API server's bootstrap roles, or the ones bootstrapRBAC adds) gives
// it what it needs and no more.
var componentUsers = map[string][]string{
	"kube-controller-manager": {"system:kube-controller-manager"},
	"kube-scheduler":          {"system:kube-scheduler"},
	"kubelet":                 {"system:node:" + topology.NodeName, "system:nodes"},
	"kube-proxy":              {"system:kube-proxy"},
	"kube-router":             {"system:kube-router"},
}

// apiserverKubeletClient is the user the API server presents to the kubelet (logs, exec,
// port-forward), bound to the bootstrap role system:kubelet-api-admin.
const apiserverKubeletClient = "kube-apiserver-kubelet-client"

// localPKI is the run's CA and every certificate and kubeconfig made from it, as files.
type localPKI struct {
	dir         string
	kubeconfigs map[string]string // component -> kubeconfig path (server inside the namespaces)
	admin       pki.KeyPair
	caPEM       []byte
}

func (p *localPKI) path(name string) string { return filepath.Join(p.dir, name) }

// makePKI writes the CA, the API server's serving certificate (for every name it is called
// by: loopback through the relay, the node's address, the kubernetes Service), the kubelet's
// serving certificate, the service-account key pair, and a client certificate and kubeconfig
// for the admin and each component.
func makePKI(dir, inside string) (*localPKI, error) {
	ca, err := pki.NewCA("template-api-e2e-ca")
	if err != nil {
		return nil, err
	}
	serving, err := ca.Serving("kube-apiserver",
		[]net.IP{net.ParseIP("127.0.0.1"), net.ParseIP(topology.NodeIP), net.ParseIP(topology.APIServiceIP)},
		[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc." + topology.ClusterDomain})
	if err != nil {
		return nil, err
	}
	kubeletServing, err := ca.Serving("kubelet", []net.IP{net.ParseIP(topology.NodeIP)}, []string{topology.NodeName})
	if err != nil {
		return nil, err
	}
	admin, err := ca.Client("e2e-admin", "system:masters")
	if err != nil {
		return nil, err
	}
	kubeletClient, err := ca.Client(apiserverKubeletClient)
	if err != nil {
		return nil, err
	}
	saCA, err := pki.NewCA("service-accounts") // only its key is used: it signs ServiceAccount tokens
	if err != nil {
		return nil, err
	}
	saKey, err := pki.PrivateKeyPEM(saCA.Key)
	if err != nil {
		return nil, err
	}
	saPub, err := pki.PublicKeyPEM(&saCA.Key.PublicKey)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		"ca.crt":        ca.CertPEM(),
		"apiserver.crt": serving.CertPEM, "apiserver.key": serving.KeyPEM,
		"apiserver-kubelet-client.crt": kubeletClient.CertPEM, "apiserver-kubelet-client.key": kubeletClient.KeyPEM,
		"kubelet.crt": kubeletServing.CertPEM, "kubelet.key": kubeletServing.KeyPEM,
		"admin.crt": admin.CertPEM, "admin.key": admin.KeyPEM, "sa.key": saKey, "sa.pub": saPub,
	}
	if err := pki.WriteFiles(dir, files); err != nil {
		return nil, err
	}
	p := &localPKI{dir: dir, kubeconfigs: map[string]string{}, admin: admin, caPEM: ca.CertPEM()}
	for component, ids := range componentUsers {
		kp, err := ca.Client(ids[0], ids[1:]...)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, component+".kubeconfig")
		if err := writeKubeconfig(path, inside, p.caPEM, kp); err != nil {
			return nil, err
		}
		p.kubeconfigs[component] = path
	}
	return p, nil
}

func writeKubeconfig(path, server string, caPEM []byte, user pki.KeyPair) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["local"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos["user"] = &clientcmdapi.AuthInfo{ClientCertificateData: user.CertPEM, ClientKeyData: user.KeyPEM}
	cfg.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "user"}
	cfg.CurrentContext = "local"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}
