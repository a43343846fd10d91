// Package platform installs what the platform runs in every cluster, the way an operator
// installs it: the declarations under k8s/platform (Kyverno from its upstream install manifest,
// the demo's in-cluster registry), applied server-side, then waited on. It also opens the
// in-cluster registry to the tests (a port-forward, which works on any laptop).
package platform

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/platform-template/template-api/test/e2e/internal/cluster"
	"github.com/platform-template/template-api/test/e2e/internal/kube"
	"github.com/platform-template/template-api/test/e2e/internal/manifests"
	"github.com/platform-template/template-api/test/e2e/internal/topology"
	"github.com/platform-template/template-api/test/internal/oci"
)

// Paths in the repository.
const (
	// KyvernoDeclaration is Kyverno for every cluster (EKS included).
	KyvernoDeclaration = "k8s/platform/kyverno"
	// LocalDeclaration is the kind demo's and the local cluster's platform: Kyverno's
	// declaration with the local settings, and the registry.
	LocalDeclaration = "k8s/platform/local"
	// KyvernoNamespace is where Kyverno runs and keeps its policy exceptions.
	KyvernoNamespace = "kyverno"
	// BreakGlassGroup is the group k8s/platform/kyverno/protect.yaml lets change Kyverno's
	// lifecycle and configuration (installs, upgrades, uninstalls).
	BreakGlassGroup = "platform:break-glass"
)

// Deployments the platform waits for (namespace/name).
var Deployments = map[string][]string{
	"kube-system":    {"registry"},
	KyvernoNamespace: {"kyverno-admission-controller", "kyverno-background-controller", "kyverno-reports-controller"},
}

// Install applies the declaration at root/dir (CRDs first, waited until Established) and waits
// until its Deployments are available.
func Install(ctx context.Context, c *kube.Client, root, dir string, log func(string, ...any)) error {
	objs, err := manifests.Render(filepath.Join(root, dir))
	if err != nil {
		return err
	}
	var crds, rest []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" {
			crds = append(crds, o)
		} else {
			rest = append(rest, o)
		}
	}
	log("applying %s: %d CRDs, then %d objects", dir, len(crds), len(rest))
	for _, o := range crds {
		if _, err := c.Apply(ctx, o); err != nil {
			return err
		}
	}
	if err := waitEstablished(ctx, c, crds); err != nil {
		return err
	}
	c.ResetMapper()
	for _, o := range rest {
		if _, err := c.Apply(ctx, o); err != nil {
			return err
		}
	}
	for ns, names := range Deployments {
		if err := cluster.WaitDeployments(ctx, c, ns, names, 4*time.Minute); err != nil {
			return fmt.Errorf("the platform did not come up: %w", err)
		}
	}
	return nil
}

func waitEstablished(ctx context.Context, c *kube.Client, crds []*unstructured.Unstructured) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for _, crd := range crds {
		if err := kube.Poll(ctx, "CRD "+crd.GetName()+" Established", 100*time.Millisecond, func(ctx context.Context) error {
			live, err := c.Get(ctx, crd)
			if err != nil {
				return err
			}
			if s, _ := kube.Condition(live, "Established"); s != "True" {
				return fmt.Errorf("not established yet")
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// Registry is a registry the tests push to and the cluster pulls from.
type Registry struct {
	// Host is the registry as image references name it.
	Host string
	// Alias reaches the same registry by another name the platform's registry list does not
	// trust ("" if there is none): in the local cluster and kind, the registry pod's own
	// address, which Kyverno reads as it reads Host (an RFC 1918 address, plain HTTP), so that
	// only the registry list can refuse a correctly signed image named by it.
	Alias string
	// Remote is how the tests reach it.
	Remote oci.Remote
	// Local is a TCP address (host:port) on this machine that answers for the registry, for
	// tools that dial it themselves (cosign): the port-forward's listener, or Host itself.
	// Signatures and attestations live in the repository by digest, so what a tool attaches
	// at Local/<repo>@<digest> is what the cluster finds at Host/<repo>@<digest>.
	Local string
	close func()
}

// LocalRef is ref (a reference under Host) as a tool on this machine reaches it: the same
// repository and digest or tag, at Local.
func (r *Registry) LocalRef(ref string) (string, error) {
	rest, ok := strings.CutPrefix(ref, r.Host+"/")
	if !ok {
		return "", fmt.Errorf("%s is not in the registry %s", ref, r.Host)
	}
	return r.Local + "/" + rest, nil
}

// Close stops the port-forward, if any.
func (r *Registry) Close() {
	if r.close != nil {
		r.close()
	}
}

// OpenRegistry reaches the in-cluster registry through a port-forward to its pod: every
// request of the tests goes to that forward, whatever host the reference names, so images are
// pushed under the name the cluster pulls them by.
func OpenRegistry(ctx context.Context, c *kube.Client) (*Registry, error) {
	pods, err := c.Typed.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{
		LabelSelector: "app.kubernetes.io/name=registry", FieldSelector: "status.phase=Running"})
	if err != nil {
		return nil, fmt.Errorf("find the registry pod: %w", err)
	}
	if len(pods.Items) == 0 {
		return nil, fmt.Errorf("no running registry pod in kube-system")
	}
	port, stop, err := c.PortForward(ctx, "kube-system", pods.Items[0].Name, 5000)
	if err != nil {
		return nil, err
	}
	local := fmt.Sprintf("127.0.0.1:%d", port)
	transport := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, local)
		},
		MaxIdleConnsPerHost: 4,
	}
	return &Registry{
		Host:  topology.RegistryHost,
		Alias: net.JoinHostPort(pods.Items[0].Status.PodIP, topology.RegistryPort),
		Remote: oci.Remote{Name: []name.Option{name.Insecure},
			Options: []remote.Option{remote.WithTransport(transport)}},
		Local: local,
		close: func() { transport.CloseIdleConnections(); stop() },
	}, nil
}

// ExternalRegistry is a registry the cluster and the tests both reach at host (an existing
// cluster's, given by E2E_REGISTRY); it has no untrusted alias.
func ExternalRegistry(host string) *Registry {
	return &Registry{Host: host, Local: host}
}
