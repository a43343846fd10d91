package guardrails

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/platform-template/template-api/test/e2e/internal/kube"
	"github.com/platform-template/template-api/test/e2e/internal/scenario"
)

// deployed applies the overlay (once for the package) and stops the test if it failed.
func deployed(t *testing.T) {
	t.Helper()
	if _, err := s.env.Deploy(s.ctx); err != nil {
		t.Fatalf("the good path failed, so nothing else can be judged: %v", err)
	}
}

// TestGoodPath: every object of the rendered kind overlay is admitted (server-side apply), and
// the Deployment runs the signed image by digest.
func TestGoodPath(t *testing.T) {
	results, err := s.env.Deploy(s.ctx)
	if len(results) < 10 {
		t.Fatalf("only %d objects applied (err %v): the rendered overlay looks incomplete", len(results), err)
	}
	for _, r := range results {
		t.Run(r.Description, func(t *testing.T) {
			if r.Err != nil {
				t.Fatalf("refused: %s", kube.Classify(r.Err))
			}
		})
	}
	live, err := s.env.Admin.Get(s.ctx, s.env.Base().Deployment)
	if err != nil {
		t.Fatalf("read back the Deployment: %v", err)
	}
	for _, field := range []string{"containers", "initContainers"} {
		cs, _, _ := unstructured.NestedSlice(live.Object, "spec", "template", "spec", field)
		for _, c := range cs {
			if img := c.(map[string]any)["image"]; img != s.env.Images.Signed {
				t.Errorf("%s image = %v, want the signed image by digest %s", field, img, s.env.Images.Signed)
			}
		}
	}
}

// TestCIDeployerCanDeploy is the control for the RBAC refusals below: impersonating the CI
// deployer works, and it may deploy the good Deployment into its namespace.
func TestCIDeployerCanDeploy(t *testing.T) {
	deployed(t)
	ci, err := s.env.As(scenario.CIDeployer)
	if err != nil {
		t.Fatal(err)
	}
	good := scenario.GoodDeployment(s.env.Base())
	if _, err := ci.Create(s.ctx, good); err != nil {
		t.Fatalf("the CI deployer could not deploy the good Deployment: %s", kube.Classify(err))
	}
	if err := s.env.Admin.Delete(s.ctx, good); err != nil {
		t.Fatal(err)
	}
}

// TestGuardrailMatrix: each bad request is refused, by the component (Pod Security Admission,
// the named Kyverno policy, or RBAC) and for the reason the case names.
func TestGuardrailMatrix(t *testing.T) {
	deployed(t)
	cases := scenario.Matrix()
	if len(cases) < 25 {
		t.Fatalf("the matrix has %d cases; the platform promises at least 25", len(cases))
	}
	base := s.env.Base()
	done := s.env.Timings.Track(fmt.Sprintf("guardrail matrix (%d requests)", len(cases)))
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			ctx, auditID := s.audit.tag(s.ctx, "matrix", c.Name)
			r := scenario.Run(ctx, s.env, base, c)
			s.matrixRun++
			if r.Refusal.Component == kube.Kyverno {
				s.latencies.Add("kyverno", r.Duration)
			}
			if err := r.Check(); err != nil {
				t.Fatal(err)
			}
			s.matrixRefused++
			s.audit.expectCase("matrix", auditID, c, base, r)
			t.Logf("REFUSED by %s", r.Refusal)
		})
	}
	done()
	checkAuditTrail(t, "matrix") // each refusal is in the audit log, once
	if err := s.env.Baseline(s.ctx, s.latencies, 25); err != nil {
		t.Errorf("baseline creates: %v", err)
	}
}

// TestMissingServiceAccountIsNotAGuardrail: a Pod naming a ServiceAccount that does not exist
// is refused by the ServiceAccount admission plugin; the harness must call that a harness
// fault, never count it as a guardrail refusing.
func TestMissingServiceAccountIsNotAGuardrail(t *testing.T) {
	deployed(t)
	good := scenario.Matrix()[0] // a Pod case
	c := scenario.Case{Name: "missing-sa", What: "a good Pod with a missing ServiceAccount", Verb: scenario.Create,
		Object: func(b scenario.Base) *unstructured.Unstructured {
			o := good.Object(b)
			_ = unstructured.SetNestedField(o.Object, "does-not-exist", "spec", "serviceAccountName")
			return o
		},
		Want: good.Want}
	r := scenario.Run(s.ctx, s.env, s.env.Base(), c)
	if r.Refusal.Component != kube.ServiceAccountLookup {
		t.Fatalf("classified as %q, want ServiceAccountLookup: %s", r.Refusal.Component, r.Refusal.Message)
	}
	if err := r.Check(); err == nil || !strings.Contains(err.Error(), "harness") {
		t.Fatalf("Check() = %v, want an error blaming the harness", err)
	}
}

// TestNewNamespaceGetsDefaultDeny: Kyverno generates a default-deny NetworkPolicy in a namespace
// created after the policies (no namespace controller runs locally, so the test looks for the
// generated object, not for traffic).
func TestNewNamespaceGetsDefaultDeny(t *testing.T) {
	deployed(t)
	ctx := s.ctx
	name := fmt.Sprintf("e2e-generated-%d", time.Now().UnixNano()%1_000_000)
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": name}}}
	if _, err := s.env.Admin.Create(ctx, ns); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() { _ = s.env.Admin.Delete(context.Background(), ns) })
	np := kube.GVR("networking.k8s.io", "v1", "networkpolicies")
	var got *unstructured.Unstructured
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := kube.Poll(wctx, "the generated NetworkPolicy", 200*time.Millisecond, func(ctx context.Context) error {
		var err error
		got, err = s.env.Admin.Dynamic.Resource(np).Namespace(name).Get(ctx, "default-deny-all", metav1.GetOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("default-deny-all generated in %s after %s", name, time.Since(start).Round(time.Millisecond))
	sel, _, _ := unstructured.NestedMap(got.Object, "spec", "podSelector")
	types, _, _ := unstructured.NestedStringSlice(got.Object, "spec", "policyTypes")
	if len(sel) != 0 || strings.Join(types, ",") != "Ingress,Egress" {
		t.Errorf("generated policy selects %v with types %v; want every pod, Ingress and Egress", sel, types)
	}
	if in, _, _ := unstructured.NestedSlice(got.Object, "spec", "ingress"); len(in) != 0 {
		t.Errorf("generated policy allows ingress: %v", in)
	}
	if eg, _, _ := unstructured.NestedSlice(got.Object, "spec", "egress"); len(eg) != 0 {
		t.Errorf("generated policy allows egress: %v", eg)
	}
}

// TestLoosenedGuardrailIsCaught shows, on the live cluster, that the matrix cannot pass
// vacuously: with require-probes switched to Audit (the rollout overlay's mode) the case
// without a liveness probe is admitted and its check fails; with Deny restored it is refused
// again.
func TestLoosenedGuardrailIsCaught(t *testing.T) {
	deployed(t)
	ctx := s.ctx
	var c scenario.Case
	for _, m := range scenario.Matrix() {
		if m.Name == "no-liveness-probe" {
			c = m
		}
	}
	if c.Name == "" {
		t.Fatal("the matrix has no no-liveness-probe case")
	}
	setActions := func(actions ...any) error { return setPolicyActions(ctx, c.Want.Policy, actions...) }
	// Kyverno picks a policy change up asynchronously: poll until the case behaves as wanted.
	await := func(what string, admitted bool) scenario.Result {
		t.Helper()
		var r scenario.Result
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := kube.Poll(wctx, what, 250*time.Millisecond, func(ctx context.Context) error {
			r = scenario.Run(ctx, s.env, s.env.Base(), c)
			if (r.Refusal.Component == kube.None) != admitted {
				return fmt.Errorf("got %s", r.Refusal)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return r
	}
	if err := setActions("Audit"); err != nil {
		t.Fatalf("switch %s to Audit: %v", c.Want.Policy, err)
	}
	t.Cleanup(func() {
		if err := setActions("Deny"); err != nil {
			t.Errorf("restore %s to Deny: %v", c.Want.Policy, err)
		}
	})
	r := await("the loosened policy to admit the case", true)
	if err := r.Check(); err == nil || !strings.Contains(err.Error(), "ADMITTED") {
		t.Fatalf("with %s in Audit, Check() = %v; want it to fail on ADMITTED", c.Want.Policy, err)
	}
	if err := setActions("Deny"); err != nil {
		t.Fatalf("restore %s to Deny: %v", c.Want.Policy, err)
	}
	if err := await("the restored policy to refuse the case", false).Check(); err != nil {
		t.Fatalf("after restoring Deny: %v", err)
	}
}
