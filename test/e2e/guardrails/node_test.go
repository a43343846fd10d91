package guardrails

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/platform-template/template-api/test/e2e/internal/harness"
	"github.com/platform-template/template-api/test/e2e/internal/kube"
	"github.com/platform-template/template-api/test/e2e/internal/platform"
	"github.com/platform-template/template-api/test/e2e/internal/scenario"
	"github.com/platform-template/template-api/test/e2e/internal/topology"
)

// The tests below need the cluster's node to run what was admitted. Every cluster mode has one
// (the local cluster included), so none of them is skipped.

// The in-cluster client runs where the ingress controller would (see harness.ClientNamespace).
const clientNamespace = harness.ClientNamespace

var clientLabels = harness.ClientLabels()

const appURL = harness.AppURL

// TestRolloutReady: the kind overlay's app and PostgreSQL roll out Ready in a namespace that
// enforces Pod Security "restricted", with every Kyverno policy enforcing (Deny). Readiness of
// the app also proves it reached the database through the NetworkPolicies (/readyz pings it).
func TestRolloutReady(t *testing.T) {
	deployed(t)
	ctx := s.ctx
	ns, err := s.env.Admin.Typed.CoreV1().Namespaces().Get(ctx, scenario.Namespace, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ns.Labels["pod-security.kubernetes.io/enforce"]; got != "restricted" {
		t.Fatalf("namespace %s enforces Pod Security %q, want restricted", scenario.Namespace, got)
	}
	for _, p := range s.env.Policies {
		kind, name, _ := strings.Cut(p, "/")
		if kind == "GeneratingPolicy" {
			continue // generates, does not admit
		}
		live := policyObject(kind, name)
		obj, err := s.env.Admin.Get(ctx, live)
		if err != nil {
			t.Fatalf("read %s: %v", p, err)
		}
		actions, _, _ := unstructured.NestedStringSlice(obj.Object, "spec", "validationActions")
		if strings.Join(actions, ",") != "Deny" {
			t.Errorf("%s has validationActions %v; every policy must enforce", p, actions)
		}
	}
	waitReady(t)
	pods, err := s.env.Admin.Typed.CoreV1().Pods(scenario.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	running := 0
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning {
			running++
			t.Logf("running: %s on %s (%s)", p.Name, p.Spec.NodeName, p.Status.PodIP)
		}
	}
	if running < 3 {
		t.Fatalf("%d pods running in %s, want the app's 2 and PostgreSQL", running, scenario.Namespace)
	}
}

func waitReady(t *testing.T) {
	t.Helper()
	deployed(t)
	start := time.Now()
	if err := s.env.WaitAppReady(s.ctx, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	s.readyOnce.Do(func() { s.env.Timings.Add("app and PostgreSQL ready after deploy", time.Since(start)) })
}

// TestServiceRoundTripAndTraceID: from a pod where the ingress controller would run, through the
// app's Service: /healthz answers, an item is created and read back, and the trace id sent in
// traceparent is on the app's log line of each request.
func TestServiceRoundTripAndTraceID(t *testing.T) {
	waitReady(t)
	ctx := s.ctx
	clientNS(t)
	traceID := randomHex(16)
	out := runJob(t, job{ns: clientNamespace, name: "e2e-roundtrip", labels: clientLabels,
		args: []string{"roundtrip", appURL, "00-" + traceID + "-" + randomHex(8) + "-01"}})
	results := resultLines(out)
	if r := results["GET /healthz"]; len(r) == 0 || r[0] != "200" {
		t.Fatalf("GET /healthz through the Service: %v\n%s", r, out)
	}
	created := results["POST /v1/items"]
	if len(created) < 2 || created[0] != "201" {
		t.Fatalf("POST /v1/items through the Service: %v\n%s", created, out)
	}
	got := results["GET /v1/items/{id}"]
	if len(got) < 3 || got[0] != "200" || got[1] != created[1] || got[2] != "e2e-roundtrip" {
		t.Fatalf("GET /v1/items/%s answered %v, want 200 with the item created\n%s", created[1], got, out)
	}
	// Each request may have reached either replica: look in every app pod's log.
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var lines []string
	err := kube.Poll(wctx, "the requests' log lines", time.Second, func(ctx context.Context) error {
		lines = s.env.AppLogLines(ctx, traceID)
		for _, route := range []string{"/healthz", "/v1/items", "/v1/items/{id}"} {
			if !containsRoute(lines, route) {
				return fmt.Errorf("no log line with trace id %s for %s (have %d)", traceID, route, len(lines))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		t.Logf("log line: %s", l)
	}
}

func containsRoute(lines []string, route string) bool {
	for _, l := range lines {
		if strings.Contains(l, `"route":"`+route+`"`) || strings.Contains(l, `"path":"`+route+`"`) {
			return true
		}
	}
	return false
}

// TestNetworkPolicies: the NetworkPolicies are enforced by the node, each refusal next to a
// positive control that shows the probe and the path work where a policy allows them.
func TestNetworkPolicies(t *testing.T) {
	waitReady(t)
	ctx := s.ctx
	app := serviceIP(t, scenario.Namespace, "template-api") + ":8080"
	db := serviceIP(t, scenario.Namespace, "postgres") + ":5432"

	t.Run("other-namespace-cannot-reach-app-or-database", func(t *testing.T) {
		// The probe may send anything from its own namespace: only the target's policies
		// can stop it.
		ns := "e2e-other-team"
		allowAllEgress(t, ns, map[string]string{"app.kubernetes.io/name": "ingress-nginx"})
		out := runJob(t, job{ns: ns, name: "e2e-netpol-other", labels: map[string]string{"app.kubernetes.io/name": "ingress-nginx"},
			args: []string{"tcp", app + "=blocked", db + "=blocked"}})
		expect(t, out, map[string]string{app: "blocked", db: "blocked"})
		// Control: the same probe, labelled the same, from the ingress controller's namespace.
		clientNS(t)
		out = runJob(t, job{ns: clientNamespace, name: "e2e-netpol-ingress", labels: clientLabels,
			args: []string{"tcp", app + "=open", db + "=blocked"}})
		expect(t, out, map[string]string{app: "open", db: "blocked"})
	})

	t.Run("app-reaches-only-dns-and-postgres", func(t *testing.T) {
		// A probe carrying the app's labels gets exactly the app's policies.
		dbByName := "postgres." + scenario.Namespace + ".svc.cluster.local:5432"
		api := topology.APIServiceIP + ":443"
		registry := topology.RegistryHost
		dnsMetrics := topology.DNSServiceIP + ":9153"
		out := runJob(t, job{ns: scenario.Namespace, name: "e2e-netpol-app", labels: map[string]string{"app.kubernetes.io/name": "template-api"}, sa: "template-api",
			args: []string{"tcp", dbByName + "=open", api + "=blocked", registry + "=blocked", dnsMetrics + "=blocked", app + "=blocked"}})
		expect(t, out, map[string]string{dbByName: "open", api: "blocked", registry: "blocked", dnsMetrics: "blocked", app: "blocked"})
	})

	t.Run("new-namespace-default-deny-blocks", func(t *testing.T) {
		ns := fmt.Sprintf("e2e-fresh-%d", time.Now().UnixNano()%1_000_000)
		createNamespace(t, ns)
		listenerIP := startJob(t, job{ns: ns, name: "listener", labels: map[string]string{"app.kubernetes.io/name": "listener"},
			args: []string{"listen", "8080"}})
		target := listenerIP + ":8080"
		out := runJob(t, job{ns: ns, name: "client-denied", labels: map[string]string{"app.kubernetes.io/name": "client"},
			args: []string{"tcp", target + "=blocked"}})
		expect(t, out, map[string]string{target: "blocked"})
		// Control: allow exactly that path, and it opens.
		port := intstr.FromInt32(8080)
		tcp := corev1.ProtocolTCP
		create(t, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "client-to-listener", Namespace: ns},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": "client"}},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
				Egress: []networkingv1.NetworkPolicyEgressRule{{
					To:    []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": "listener"}}}},
					Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port}}}}}})
		create(t, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "listener-from-client", Namespace: ns},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": "listener"}},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{
					From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": "client"}}}},
					Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port}}}}}})
		out = runJob(t, job{ns: ns, name: "client-allowed", labels: map[string]string{"app.kubernetes.io/name": "client"},
			args: []string{"tcp", target + "=open"}})
		expect(t, out, map[string]string{target: "open"})
	})
	_ = ctx
}

// TestSelfHealing: an app pod killed (deleted without grace) is replaced, and the Deployment is
// back to all replicas available.
func TestSelfHealing(t *testing.T) {
	waitReady(t)
	ctx := s.ctx
	pods := s.env.Admin.Typed.CoreV1().Pods(scenario.Namespace)
	list, err := pods.List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=template-api", FieldSelector: "status.phase=Running"})
	if err != nil || len(list.Items) == 0 {
		t.Fatalf("no running app pod (%v)", err)
	}
	victim := list.Items[0]
	start := time.Now()
	zero := int64(0)
	if err := pods.Delete(ctx, victim.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	err = kube.Poll(wctx, "a replacement for "+victim.Name, time.Second, func(ctx context.Context) error {
		l, err := pods.List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=template-api"})
		if err != nil {
			return err
		}
		ready := 0
		for _, p := range l.Items {
			if p.UID == victim.UID {
				return fmt.Errorf("%s still listed", victim.Name)
			}
			if p.DeletionTimestamp == nil && podReady(p) {
				ready++
			}
		}
		if ready < 2 {
			return fmt.Errorf("%d app pods ready", ready)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("replaced and ready in %s", time.Since(start).Round(100*time.Millisecond))
	waitReady(t)
}

// TestRolloutRestartZeroLoss: `kubectl rollout restart` of the app while an in-cluster client
// sends a steady stream of requests through the Service: the rollout completes and not one
// request fails (readiness gates new pods, the drain delay lets endpoints move off old pods
// before they stop, maxUnavailable 0 keeps capacity).
func TestRolloutRestartZeroLoss(t *testing.T) {
	waitReady(t)
	ctx := s.ctx
	clientNS(t)
	logs := startJobLogs(t, job{ns: clientNamespace, name: "e2e-steady-client", labels: clientLabels,
		args: []string{"load", appURL + "/v1/items?limit=1", "300", "50"}})
	warm := waitLoad(t, logs, func(l loadLine) bool { return l.total >= 20 }, time.Minute)
	if warm.failed != 0 {
		t.Fatalf("requests failed before the rollout: %+v\n%s", warm, logs())
	}
	deploys := s.env.Admin.Typed.AppsV1().Deployments(scenario.Namespace)
	before, err := deploys.Get(ctx, "template-api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":%q}}}}}`, start.UTC().Format(time.RFC3339))
	if _, err := deploys.Patch(ctx, "template-api", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatalf("rollout restart: %s", kube.Classify(err))
	}
	oldPods := map[types.UID]bool{}
	if l, err := s.env.Admin.Typed.CoreV1().Pods(scenario.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=template-api"}); err == nil {
		for _, p := range l.Items {
			oldPods[p.UID] = true
		}
	}
	// Done when the new ReplicaSet serves every replica and no old pod remains at all.
	wctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	err = kube.Poll(wctx, "the restarted rollout", time.Second, func(ctx context.Context) error {
		d, err := deploys.Get(ctx, "template-api", metav1.GetOptions{})
		if err != nil {
			return err
		}
		want := ptrValue(d.Spec.Replicas)
		if d.Status.ObservedGeneration <= before.Generation-1 || d.Status.UpdatedReplicas < want || d.Status.AvailableReplicas < want {
			return fmt.Errorf("%d updated, %d available of %d", d.Status.UpdatedReplicas, d.Status.AvailableReplicas, want)
		}
		l, err := s.env.Admin.Typed.CoreV1().Pods(scenario.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=template-api"})
		if err != nil {
			return err
		}
		for _, p := range l.Items {
			if oldPods[p.UID] {
				return fmt.Errorf("old pod %s still there (%s)", p.Name, p.Status.Phase)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	time.Sleep(3 * time.Second) // requests after the last old pod is gone count too
	final := waitLoad(t, logs, func(l loadLine) bool { return l.total >= warm.total+int(took/(50*time.Millisecond))/2 }, 30*time.Second)
	t.Logf("rollout restart took %s; the steady client sent %d requests (%d during the rollout), %d failed",
		took.Round(100*time.Millisecond), final.total, final.total-warm.total, final.failed)
	if final.failed != 0 {
		t.Fatalf("%d requests failed during the rollout:\n%s", final.failed, failLines(logs()))
	}
}

// TestFailClosed: admission fails closed when Kyverno is down, and Kyverno cannot be turned off
// without the break-glass group.
//
//   - Kyverno v1.19.1 deletes its webhook configurations when its admission controller's
//     Deployment is scaled to zero (see k8s/platform/kyverno/protect.yaml): done by a break-glass
//     identity, that really turns every policy off (a bad Deployment is admitted), which is why
//   - scaling it to zero (by the scale subresource or a patch), deleting it, deleting or
//     loosening its webhook configurations, narrowing what its configuration lets it see, or
//     deleting its namespace is refused to everyone else, cluster admins included, by the API
//     server's own ValidatingAdmissionPolicy;
//   - while it is down for any other reason (its pod gone and none schedulable, as after losing
//     its node), its webhooks stand and refuse a Deployment;
//   - back up, the good Deployment is admitted and a bad one refused by its policy again.
func TestFailClosed(t *testing.T) {
	deployed(t)
	ctx := s.ctx
	const admission = "kyverno-admission-controller"
	good := scenario.GoodDeployment(s.env.Base())
	bad := noLimits(t)
	scale := func(c *kube.Client, n int32) error {
		sc, err := c.Typed.AppsV1().Deployments("kyverno").GetScale(ctx, admission, metav1.GetOptions{})
		if err != nil {
			return err
		}
		sc.Spec.Replicas = n
		_, err = c.Typed.AppsV1().Deployments("kyverno").UpdateScale(ctx, admission, sc, metav1.UpdateOptions{})
		return err
	}
	breakGlass, err := s.env.Admin.Impersonate("platform-operator", "system:masters", platform.BreakGlassGroup)
	if err != nil {
		t.Fatal(err)
	}
	restore := func() {
		_ = scale(breakGlass, 1)
		if err := waitDeploymentAvailable(context.Background(), "kyverno", admission, 4*time.Minute); err != nil {
			t.Errorf("Kyverno did not come back: %v", err)
			return
		}
		if err := s.env.WaitWebhooksLive(context.Background()); err != nil {
			t.Errorf("Kyverno's webhooks did not come back: %v", err)
		}
	}

	t.Run("scale-to-zero-removes-the-webhooks-for-break-glass", func(t *testing.T) {
		if err := scale(breakGlass, 0); err != nil {
			t.Fatalf("break-glass scale to zero: %s", kube.Classify(err))
		}
		t.Cleanup(restore)
		// Kyverno removes them as its pod stops; until then each request waits for the webhooks
		// of a pod that is going away, so look at the configurations first.
		reg := s.env.Admin.Typed.AdmissionregistrationV1()
		sel := metav1.ListOptions{LabelSelector: "webhook.kyverno.io/managed-by=kyverno"}
		wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		err := kube.Poll(wctx, "Kyverno's webhook configurations removed", 2*time.Second, func(ctx context.Context) error {
			v, err := reg.ValidatingWebhookConfigurations().List(ctx, sel)
			if err != nil {
				return err
			}
			m, err := reg.MutatingWebhookConfigurations().List(ctx, sel)
			if err != nil {
				return err
			}
			if n := len(v.Items) + len(m.Items); n > 0 {
				return fmt.Errorf("%d still there", n)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		err = kube.Poll(wctx, "a bad Deployment admitted", time.Second, func(ctx context.Context) error {
			actx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			if r := kube.Classify(s.env.Admin.CreateDryRun(actx, bad)); r.Component != kube.None {
				return fmt.Errorf("still refused: %s", r)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("with Kyverno scaled to zero, a Deployment without limits is ADMITTED: Kyverno removed its webhooks (fail open) — hence the guard below")
	})
	restore()

	t.Run("turning-kyverno-off-is-refused", func(t *testing.T) {
		dry := []string{metav1.DryRunAll}
		admin := s.env.Admin.Typed
		hooks, err := admin.AdmissionregistrationV1().ValidatingWebhookConfigurations().List(ctx, metav1.ListOptions{LabelSelector: "webhook.kyverno.io/managed-by=kyverno"})
		if err != nil || len(hooks.Items) == 0 {
			t.Fatalf("no Kyverno validating webhook configuration (%v)", err)
		}
		mhooks, err := admin.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{LabelSelector: "webhook.kyverno.io/managed-by=kyverno"})
		if err != nil || len(mhooks.Items) == 0 {
			t.Fatalf("no Kyverno mutating webhook configuration (%v)", err)
		}
		vwc, mwc := hooks.Items[0].Name, mhooks.Items[0].Name
		filters := `{"data":{"resourceFilters":"[*/*,kyverno,*] [*/*,template-api,*]"}}`
		attempts := []struct {
			name, reason string
			do           func(c *kube.Client) error
		}{
			{"scale-subresource-to-zero", "below one replica", func(c *kube.Client) error {
				sc, err := c.Typed.AppsV1().Deployments("kyverno").GetScale(ctx, admission, metav1.GetOptions{})
				if err != nil {
					return err
				}
				sc.Spec.Replicas = 0
				_, err = c.Typed.AppsV1().Deployments("kyverno").UpdateScale(ctx, admission, sc, metav1.UpdateOptions{DryRun: dry})
				return err
			}},
			{"patch-replicas-to-zero", "below one replica", func(c *kube.Client) error {
				_, err := c.Typed.AppsV1().Deployments("kyverno").Patch(ctx, admission, types.MergePatchType, []byte(`{"spec":{"replicas":0}}`), metav1.PatchOptions{DryRun: dry})
				return err
			}},
			{"delete-admission-controller", "may not be deleted", func(c *kube.Client) error {
				return c.Typed.AppsV1().Deployments("kyverno").Delete(ctx, admission, metav1.DeleteOptions{DryRun: dry})
			}},
			{"delete-validating-webhooks", "webhook configurations", func(c *kube.Client) error {
				return c.Typed.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(ctx, vwc, metav1.DeleteOptions{DryRun: dry})
			}},
			{"webhooks-failure-policy-ignore", "webhook configurations", func(c *kube.Client) error {
				_, err := c.Typed.AdmissionregistrationV1().ValidatingWebhookConfigurations().Patch(ctx, vwc, types.JSONPatchType,
					[]byte(`[{"op":"replace","path":"/webhooks/0/failurePolicy","value":"Ignore"}]`), metav1.PatchOptions{DryRun: dry})
				return err
			}},
			{"delete-mutating-webhooks", "webhook configurations", func(c *kube.Client) error {
				return c.Typed.AdmissionregistrationV1().MutatingWebhookConfigurations().Delete(ctx, mwc, metav1.DeleteOptions{DryRun: dry})
			}},
			{"filter-out-the-app-namespace", "configuration", func(c *kube.Client) error {
				_, err := c.Typed.CoreV1().ConfigMaps("kyverno").Patch(ctx, "kyverno", types.MergePatchType, []byte(filters), metav1.PatchOptions{DryRun: dry})
				return err
			}},
			{"delete-kyverno-namespace", "may not be deleted", func(c *kube.Client) error {
				return c.Typed.CoreV1().Namespaces().Delete(ctx, "kyverno", metav1.DeleteOptions{DryRun: dry})
			}},
		}
		for _, a := range attempts {
			t.Run(a.name, func(t *testing.T) {
				r := kube.Classify(a.do(s.env.Admin))
				if r.Component != kube.AdmissionPolicy || r.PolicyNames()[0] != "platform-protect-kyverno" || !strings.Contains(r.Reason, a.reason) {
					t.Fatalf("cluster admin: %s; want refused by ValidatingAdmissionPolicy platform-protect-kyverno (%q)", r, a.reason)
				}
				t.Logf("REFUSED by %s", r)
			})
		}
		// Controls: the same requests pass for the identities the policy lets through.
		if err := attempts[6].do(breakGlass); err != nil {
			t.Errorf("break-glass editing Kyverno's configuration (dry run): %s", kube.Classify(err))
		}
		kyvernoSA, err := s.env.Admin.Impersonate("system:serviceaccount:kyverno:kyverno-admission-controller", "system:masters")
		if err != nil {
			t.Fatal(err)
		}
		if err := attempts[4].do(kyvernoSA); err != nil {
			t.Errorf("Kyverno editing its own webhook configuration (dry run): %s", kube.Classify(err))
		}
	})

	t.Run("down-refuses", func(t *testing.T) {
		nodes, err := s.env.Admin.Typed.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		setSchedulable := func(ok bool) {
			for _, n := range nodes.Items {
				patch := fmt.Sprintf(`{"spec":{"unschedulable":%v}}`, !ok)
				if _, err := s.env.Admin.Typed.CoreV1().Nodes().Patch(context.Background(), n.Name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
					t.Errorf("set node %s schedulable=%v: %v", n.Name, ok, err)
				}
			}
		}
		setSchedulable(false)
		t.Cleanup(func() { setSchedulable(true) })
		pods := s.env.Admin.Typed.CoreV1().Pods("kyverno")
		list, err := pods.List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=admission-controller"})
		if err != nil || len(list.Items) == 0 {
			t.Fatalf("no Kyverno admission controller pod (%v)", err)
		}
		zero := int64(0)
		for _, p := range list.Items {
			if err := pods.Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
				t.Fatal(err)
			}
		}
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		var r kube.Refusal
		err = kube.Poll(wctx, "admission with Kyverno down", time.Second, func(ctx context.Context) error {
			r = kube.Classify(s.env.Admin.CreateDryRun(ctx, good))
			if r.Component != kube.WebhookUnavailable {
				return fmt.Errorf("got %s", r)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(r.Webhook, "kyverno") {
			t.Fatalf("refused by webhook %q, want one of Kyverno's: %s", r.Webhook, r.Message)
		}
		t.Logf("with Kyverno down: REFUSED by %s", r)
		setSchedulable(true)
		if err := waitDeploymentAvailable(ctx, "kyverno", admission, 4*time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := s.env.WaitWebhooksLive(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.env.Admin.CreateDryRun(ctx, good); err != nil {
			t.Fatalf("with Kyverno back, the good Deployment is refused: %s", kube.Classify(err))
		}
		if r := kube.Classify(s.env.Admin.CreateDryRun(ctx, bad)); r.Component != kube.Kyverno {
			t.Fatalf("with Kyverno back, a Deployment without limits: %s; want refused by Kyverno", r)
		}
	})
}

// noLimits is the matrix's Deployment without limits.
func noLimits(t *testing.T) *unstructured.Unstructured {
	t.Helper()
	for _, c := range scenario.Matrix() {
		if c.Name == "no-limits" {
			return c.Object(s.env.Base())
		}
	}
	t.Fatal("the matrix has no no-limits case")
	return nil
}

func waitDeploymentAvailable(ctx context.Context, ns, name string, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return kube.Poll(ctx, "Deployment "+ns+"/"+name+" available", time.Second, func(ctx context.Context) error {
		dep, err := s.env.Admin.Typed.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if dep.Status.AvailableReplicas < ptrValue(dep.Spec.Replicas) {
			return fmt.Errorf("%d of %d available", dep.Status.AvailableReplicas, ptrValue(dep.Spec.Replicas))
		}
		return nil
	})
}

// job is a probe Job of the tests (harness.Probe).
type job struct {
	ns, name string
	labels   map[string]string
	args     []string
	sa       string
}

func (j job) probe() harness.Probe {
	return harness.Probe{Namespace: j.ns, Name: j.name, Labels: j.labels, Args: j.args, ServiceAccount: j.sa}
}

// runJob runs j to completion and returns its output; the Job is deleted when the test ends.
func runJob(t *testing.T, j job) string {
	t.Helper()
	t.Cleanup(func() { s.env.DeleteProbe(context.Background(), j.probe()) })
	out, err := s.env.RunProbe(s.ctx, j.probe())
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// startJob starts a long-running probe and returns its pod's IP once it runs.
func startJob(t *testing.T, j job) string {
	t.Helper()
	t.Cleanup(func() { s.env.DeleteProbe(context.Background(), j.probe()) })
	_, ip, err := s.env.StartProbe(s.ctx, j.probe())
	if err != nil {
		t.Fatal(err)
	}
	return ip
}

// startJobLogs starts a long-running probe and returns a function that reads its log so far.
func startJobLogs(t *testing.T, j job) func() string {
	t.Helper()
	t.Cleanup(func() { s.env.DeleteProbe(context.Background(), j.probe()) })
	pod, _, err := s.env.StartProbe(s.ctx, j.probe())
	if err != nil {
		t.Fatal(err)
	}
	return func() string { return s.env.PodLogs(s.ctx, j.ns, pod, "") }
}

// resultLines maps "RESULT <key...> <values>" lines: for roundtrip, "<METHOD> <path>" ->
// the remaining fields; for tcp, "<target>" -> the remaining fields.
func resultLines(out string) map[string][]string {
	m := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "RESULT" {
			continue
		}
		if httpMethod.MatchString(f[1]) && len(f) >= 4 {
			m[f[1]+" "+f[2]] = f[3:]
		} else {
			m[f[1]] = f[2:]
		}
	}
	return m
}

// expect checks each tcp target's outcome.
func expect(t *testing.T, out string, want map[string]string) {
	t.Helper()
	got := resultLines(out)
	for target, w := range want {
		r := got[target]
		if len(r) == 0 {
			t.Errorf("no result for %s:\n%s", target, out)
			continue
		}
		if r[0] != w {
			t.Errorf("%s is %s, want %s (%s)", target, r[0], w, strings.Join(r[1:], " "))
		} else {
			t.Logf("%s %s as expected (%s attempts)", target, w, r[1])
		}
	}
}

var httpMethod = regexp.MustCompile(`^[A-Z]+$`)

type loadLine struct{ total, failed int }

var loadRe = regexp.MustCompile(`LOAD total=(\d+) failed=(\d+)`)

// waitLoad waits until the client's last summary satisfies ok, and returns it.
func waitLoad(t *testing.T, logs func() string, ok func(loadLine) bool, d time.Duration) loadLine {
	t.Helper()
	var last loadLine
	ctx, cancel := context.WithTimeout(s.ctx, d)
	defer cancel()
	err := kube.Poll(ctx, "the steady client's counts", time.Second, func(context.Context) error {
		m := loadRe.FindAllStringSubmatch(logs(), -1)
		if len(m) == 0 {
			return fmt.Errorf("no summary yet")
		}
		last.total, _ = strconv.Atoi(m[len(m)-1][1])
		last.failed, _ = strconv.Atoi(m[len(m)-1][2])
		if !ok(last) {
			return fmt.Errorf("at %+v", last)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, logs())
	}
	return last
}

func failLines(out string) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "FAIL") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// clientNS makes the ingress controller's namespace (once), with its client's egress.
func clientNS(t *testing.T) {
	t.Helper()
	s.clientNSOnce.Do(func() {
		if err := s.env.EnsureClientNamespace(s.ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// allowAllEgress lets the selected pods of ns send anything (so that only a target's policies
// can stop them).
func allowAllEgress(t *testing.T, ns string, selector map[string]string) {
	t.Helper()
	create(t, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "e2e-probe-egress-all", Namespace: ns},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: selector},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress:      []networkingv1.NetworkPolicyEgressRule{{}}}})
}

func createNamespace(t *testing.T, name string) {
	t.Helper()
	if err := s.env.CreateNamespace(s.ctx, name); err != nil {
		t.Fatal(err)
	}
}

func create(t *testing.T, np *networkingv1.NetworkPolicy) {
	t.Helper()
	if err := s.env.CreateNetworkPolicy(s.ctx, np); err != nil {
		t.Fatal(err)
	}
}

func serviceIP(t *testing.T, ns, name string) string {
	t.Helper()
	svc, err := s.env.Admin.Typed.CoreV1().Services(ns).Get(s.ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("Service %s/%s: %v", ns, name, err)
	}
	return svc.Spec.ClusterIP
}

func podReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func ptrValue(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

func policyObject(kind, name string) *unstructured.Unstructured {
	o := &unstructured.Unstructured{}
	o.SetAPIVersion("policies.kyverno.io/v1")
	o.SetKind(kind)
	o.SetName(name)
	return o
}
