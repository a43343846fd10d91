package cluster

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/platform-template/template-api/test/e2e/internal/kube"
	"github.com/platform-template/template-api/test/e2e/internal/oci"
	"github.com/platform-template/template-api/test/e2e/internal/proc"
)

// KyvernoNamespace is where Kyverno keeps its configuration, secrets and policy exceptions.
const KyvernoNamespace = "kyverno"

// Files of the repository's k8s/cluster folder: cluster-level configuration shared by the local
// control plane and the kind cluster.
const (
	// PodSecurityAdmissionFile is the API server's AdmissionConfiguration (Pod Security defaults).
	PodSecurityAdmissionFile = "pod-security-admission.yaml"
	// KyvernoConfigFile is Kyverno's ConfigMap (resource filters, webhook namespace selector).
	KyvernoConfigFile = "kyverno-config.yaml"
)

// kyvernoEnv is what a Kyverno pod would get from its Deployment.
func kyvernoEnv(pod string) []string {
	return []string{
		"KYVERNO_NAMESPACE=" + KyvernoNamespace,
		"KYVERNO_POD_NAME=" + pod,
		"KYVERNO_DEPLOYMENT=kyverno-admission-controller",
		"KYVERNO_SVC=kyverno-svc",
		"KYVERNO_SERVICEACCOUNT_NAME=kyverno-admission-controller",
		"KYVERNO_ROLE_NAME=kyverno:admission-controller",
		"INIT_CONFIG=kyverno",
		"METRICS_CONFIG=kyverno-metrics",
	}
}

// KyvernoCRDDirs are the folders of Kyverno's module that hold its CRDs.
var KyvernoCRDDirs = []string{"kyverno", "policies.kyverno.io", "reports", "policyreport"}

// InstallKyvernoPrerequisites applies what Kyverno's Deployment would find installed: its
// namespace, CRDs (server-side: some are too large for client-side apply), its ConfigMaps (the
// platform's `kyverno` ConfigMap from configFile, the others from the module's own install
// manifest), and its background controller's ServiceAccount and binding.
func InstallKyvernoPrerequisites(ctx context.Context, c *kube.Client, source, configFile string) error {
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": KyvernoNamespace}}}
	if _, err := c.Apply(ctx, ns); err != nil {
		return err
	}
	var crds []*unstructured.Unstructured
	for _, d := range KyvernoCRDDirs {
		files, err := filepath.Glob(filepath.Join(source, "config", "crds", d, "*.yaml"))
		if err != nil || len(files) == 0 {
			return fmt.Errorf("no CRDs in %s/config/crds/%s (is KyvernoSource the kyverno module?)", source, d)
		}
		for _, f := range files {
			objs, err := kube.DecodeFile(f)
			if err != nil {
				return err
			}
			crds = append(crds, objs...)
		}
	}
	if err := applyAll(ctx, c, crds); err != nil {
		return err
	}
	if err := waitEstablished(ctx, c, crds); err != nil {
		return err
	}
	c.ResetMapper()
	install, err := kube.DecodeFile(filepath.Join(source, "config", "install-latest-testing.yaml"))
	if err != nil {
		return err
	}
	// The platform's own `kyverno` ConfigMap (k8s/cluster) replaces the install manifest's.
	cms, err := kube.DecodeFile(configFile)
	if err != nil {
		return err
	}
	if len(cms) != 1 || cms[0].GetKind() != "ConfigMap" || cms[0].GetName() != "kyverno" {
		return fmt.Errorf("%s must hold exactly the ConfigMap kyverno", configFile)
	}
	for _, o := range install {
		if o.GetKind() == "ConfigMap" && o.GetNamespace() == KyvernoNamespace && o.GetName() != "kyverno" {
			cms = append(cms, o)
		}
	}
	if len(cms) < 2 {
		return fmt.Errorf("expected the kyverno and kyverno-metrics ConfigMaps in install-latest-testing.yaml, found %d", len(cms))
	}
	rbac, err := kube.Decode([]byte(backgroundRBAC))
	if err != nil {
		return err
	}
	return applyAll(ctx, c, append(cms, rbac...))
}

// backgroundRBAC binds Kyverno's background controller's ServiceAccount to the ClusterRole the
// policies ship for the NetworkPolicies it generates
// (policies/kyverno/base/generate-default-deny-networkpolicy/rbac.yaml). In a real install that
// role is aggregated into the chart's kyverno:background-controller role, which the chart binds;
// with no controller-manager there is no aggregation, so the harness binds it directly. (Both
// controllers run with the admin kubeconfig here; the admission controller checks this
// ServiceAccount's permission before it calls a generating policy Ready.)
const backgroundRBAC = `
apiVersion: v1
kind: ServiceAccount
metadata: {name: kyverno-background-controller, namespace: kyverno}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "kyverno:background-controller:networkpolicies"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "kyverno:background-controller:networkpolicies"}
subjects:
  - {kind: ServiceAccount, name: kyverno-background-controller, namespace: kyverno}
`

func applyAll(ctx context.Context, c *kube.Client, objs []*unstructured.Unstructured) error {
	for _, o := range objs {
		if _, err := c.Apply(ctx, o); err != nil {
			return err
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

func (l *Local) startKyverno(ctx context.Context) error {
	return runKyverno(ctx, kyvernoRun{
		Kubeconfig: l.state.Kubeconfig, AdvertiseHost: "127.0.0.1", ListenHost: "127.0.0.1",
		Bin: l.opts.Bin, Source: l.opts.KyvernoSource, ClusterConfig: l.opts.ClusterConfig, Start: l.start, Timings: l.opts.Timings,
	})
}

// kyvernoRun says how to run Kyverno's admission and background controllers as processes
// outside the cluster, against its API server.
type kyvernoRun struct {
	Kubeconfig    string
	AdvertiseHost string // the address the API server calls the webhooks at
	ListenHost    string // the address the webhook server listens on
	Bin           Binaries
	Source        string
	ClusterConfig string // k8s/cluster (Kyverno's ConfigMap)
	Start         func(proc.Spec) (*proc.Process, error)
	Timings       *Timings
}

// runKyverno installs Kyverno's prerequisites and starts both controllers; it returns once the
// admission controller answers its readiness probe.
func runKyverno(ctx context.Context, o kyvernoRun) error {
	c, err := kube.FromKubeconfig(o.Kubeconfig)
	if err != nil {
		return err
	}
	done := o.Timings.Track("kyverno CRDs and config applied")
	if err := InstallKyvernoPrerequisites(ctx, c, o.Source, filepath.Join(o.ClusterConfig, KyvernoConfigFile)); err != nil {
		return err
	}
	done()
	done = o.Timings.Track("kyverno ready")
	// The webhook port, and a metrics port for each controller (both default to :8000).
	ports, err := FreePorts(3)
	if err != nil {
		return err
	}
	port := strconv.Itoa(ports[0])
	common := []string{
		"--kubeconfig=" + o.Kubeconfig,
		"--disableMetrics", "--controllerRuntimeMetricsAddress=0", "--autoMemLimitEnabled=false",
		"--enablePolicyException", "--exceptionNamespace=" + KyvernoNamespace,
		"--allowInsecureRegistry", // the loopback registry speaks plain HTTP
	}
	kyv, err := o.Start(proc.Spec{Name: procKyverno, Path: o.Bin.KyvernoAdmission, Env: kyvernoEnv("kyverno-admission-local"),
		Args: append(append([]string{}, common...), "--metricsPort="+strconv.Itoa(ports[1]),
			// Webhooks registered as https://<host>:<port>/..., with a certificate for that IP.
			"--serverIP="+net.JoinHostPort(o.AdvertiseHost, port), "--webhookServerHost="+o.ListenHost, "--webhookServerPort="+port,
			"--caSecretName=kyverno-svc.kyverno.svc.kyverno-tls-ca",
			"--tlsSecretName=kyverno-svc.kyverno.svc.kyverno-tls-pair",
			"--generateValidatingAdmissionPolicy=false", "--admissionReports=false",
			"--backgroundServiceAccountName=system:serviceaccount:kyverno:kyverno-background-controller",
		)})
	if err != nil {
		return err
	}
	insecure := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		// Only for the readiness probe: Kyverno's certificate comes from its own fresh CA.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback health probe
	}}
	wctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	if err := kyv.WaitFor(wctx, "kyverno /health/readiness", 200*time.Millisecond, func(ctx context.Context) error {
		return getOK(ctx, insecure, "https://"+net.JoinHostPort(o.AdvertiseHost, port)+"/health/readiness")
	}); err != nil {
		return err
	}
	bg, err := o.Start(proc.Spec{Name: procBackground, Path: o.Bin.KyvernoBackground,
		Env:  append(kyvernoEnv("kyverno-background-local"), "KYVERNO_SERVICEACCOUNT_NAME=kyverno-background-controller"),
		Args: append(append([]string{}, common...), "--metricsPort="+strconv.Itoa(ports[2]))})
	if err != nil {
		return err
	}
	// It has no readiness endpoint; a bad flag or a taken port makes it exit at once.
	time.Sleep(time.Second)
	if bg.Exited() {
		return fmt.Errorf("the Kyverno background controller exited at start:\n%s", bg.Tail(10))
	}
	done()
	return nil
}

func (l *Local) startRegistry(ctx context.Context) error {
	ports, err := FreePorts(1)
	if err != nil {
		return err
	}
	addrs := []string{fmt.Sprintf("127.0.0.1:%d", ports[0]), fmt.Sprintf("[::1]:%d", ports[0])}
	l.state.Registry = addrs[0]
	if len(l.opts.RegistryCmd) == 0 {
		reg, err := oci.Serve(addrs...)
		if err != nil {
			return err
		}
		l.stopInProc = reg.Close
		return nil
	}
	p, err := l.start(proc.Spec{Name: procRegistry, Path: l.opts.RegistryCmd[0],
		Args: append(append([]string{}, l.opts.RegistryCmd[1:]...), addrs...)})
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return p.WaitFor(wctx, "registry", 50*time.Millisecond, func(ctx context.Context) error {
		return oci.Ping(ctx, addrs[0])
	})
}
