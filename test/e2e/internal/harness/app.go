package harness

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/platform-template/template-api/test/e2e/internal/kube"
	"github.com/platform-template/template-api/test/e2e/internal/scenario"
)

// ClientNamespace is where the in-cluster client of the tests and the demo runs: the
// namespace the app's NetworkPolicy admits HTTP from (k8s/base/networkpolicy.yaml), its pods
// labelled as the ingress controller's.
const ClientNamespace = "ingress-nginx"

// AppURL is the app's Service as a pod in the cluster names it.
const AppURL = "http://template-api." + scenario.Namespace + ".svc.cluster.local:8080"

// ClientLabels are the in-cluster client's pod labels (the ingress controller's).
func ClientLabels() map[string]string {
	return map[string]string{"app.kubernetes.io/name": "ingress-nginx"}
}

// WaitAppReady waits until the app's Deployment and its PostgreSQL have every replica ready.
func (e *Env) WaitAppReady(ctx context.Context, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	apps := e.Admin.Typed.AppsV1()
	return kube.Poll(ctx, "template-api and postgres ready", time.Second, func(ctx context.Context) error {
		dep, err := apps.Deployments(scenario.Namespace).Get(ctx, "template-api", metav1.GetOptions{})
		if err != nil {
			return err
		}
		want := replicas(dep.Spec.Replicas)
		st := dep.Status
		if st.ObservedGeneration < dep.Generation || st.UpdatedReplicas < want || st.AvailableReplicas < want || st.Replicas > want {
			return fmt.Errorf("deployment: %d of %d updated, %d available, %d in all%s", st.UpdatedReplicas, want,
				st.AvailableReplicas, st.Replicas, e.PodStates(ctx, scenario.Namespace, "app.kubernetes.io/name=template-api"))
		}
		sts, err := apps.StatefulSets(scenario.Namespace).Get(ctx, "postgres", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if sts.Status.ReadyReplicas < replicas(sts.Spec.Replicas) {
			return fmt.Errorf("postgres: %d of %d ready%s", sts.Status.ReadyReplicas, replicas(sts.Spec.Replicas),
				e.PodStates(ctx, scenario.Namespace, "app.kubernetes.io/name=postgres"))
		}
		return nil
	})
}

func replicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

// PodStates describes the pods a selector finds, for a wait's error message.
func (e *Env) PodStates(ctx context.Context, ns, selector string) string {
	pods, err := e.Admin.Typed.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, p := range pods.Items {
		fmt.Fprintf(&b, "; pod %s %s", p.Name, p.Status.Phase)
		for _, cs := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
			switch {
			case cs.State.Waiting != nil:
				fmt.Fprintf(&b, " %s waiting %s %s", cs.Name, cs.State.Waiting.Reason, cs.State.Waiting.Message)
			case cs.State.Terminated != nil && cs.State.Terminated.ExitCode != 0:
				fmt.Fprintf(&b, " %s exited %d %s", cs.Name, cs.State.Terminated.ExitCode, cs.State.Terminated.Reason)
			}
		}
	}
	return b.String()
}

// AppLogLines returns the running app pods' log lines that contain needle.
func (e *Env) AppLogLines(ctx context.Context, needle string) []string {
	pods, err := e.Admin.Typed.CoreV1().Pods(scenario.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: "app.kubernetes.io/name=template-api", FieldSelector: "status.phase=Running"})
	if err != nil {
		return nil
	}
	var out []string
	for _, p := range pods.Items {
		rc, err := e.Admin.Typed.CoreV1().Pods(scenario.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: "api"}).Stream(ctx)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(rc)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if strings.Contains(sc.Text(), needle) {
				out = append(out, sc.Text())
			}
		}
		_ = rc.Close()
	}
	return out
}

// CreateNamespace makes a namespace enforcing Pod Security restricted (existing is fine) and
// waits for the default-deny NetworkPolicy Kyverno generates in it.
func (e *Env) CreateNamespace(ctx context.Context, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted"}}}
	if _, err := e.Admin.Typed.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %s", name, kube.Classify(err))
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return kube.Poll(wctx, "the generated default-deny in "+name, 500*time.Millisecond, func(ctx context.Context) error {
		_, err := e.Admin.Typed.NetworkingV1().NetworkPolicies(name).Get(ctx, "default-deny-all", metav1.GetOptions{})
		return err
	})
}

// CreateNetworkPolicy creates np (an existing one of that name is kept).
func (e *Env) CreateNetworkPolicy(ctx context.Context, np *networkingv1.NetworkPolicy) error {
	_, err := e.Admin.Typed.NetworkingV1().NetworkPolicies(np.Namespace).Create(ctx, np, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create NetworkPolicy %s/%s: %s", np.Namespace, np.Name, kube.Classify(err))
	}
	return nil
}

// EnsureClientNamespace makes the ingress controller's namespace with the egress its client
// needs (the app's HTTP port, and DNS): the generated default deny blocks everything else.
func (e *Env) EnsureClientNamespace(ctx context.Context) error {
	if err := e.CreateNamespace(ctx, ClientNamespace); err != nil {
		return err
	}
	port, dns := intstr.FromInt32(8080), intstr.FromInt32(53)
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	return e.CreateNetworkPolicy(ctx, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "controller-egress", Namespace: ClientNamespace},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: ClientLabels()},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress: []networkingv1.NetworkPolicyEgressRule{
				{To: []networkingv1.NetworkPolicyPeer{{
					NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": scenario.Namespace}},
					PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": "template-api"}}}},
					Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port}}},
				{To: []networkingv1.NetworkPolicyPeer{{
					NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}},
					PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}}}},
					Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &dns}, {Protocol: &tcp, Port: &dns}}},
			}}})
}
