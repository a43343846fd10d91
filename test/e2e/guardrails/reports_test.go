package guardrails

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/platform-template/template-api/test/e2e/internal/kube"
	"github.com/platform-template/template-api/test/e2e/internal/reports"
	"github.com/platform-template/template-api/test/e2e/internal/scenario"
)

// reportWait is how long Kyverno's reports controller may take to report on an object: its
// background scan reacts to new objects (30 s after it sees one), then the per-object reports are
// aggregated (10 s later). A policy change re-queues every object the policies match, so the
// counter-proof, which follows one, may wait longer on a busy 2-core machine.
const (
	reportWait             = 3 * time.Minute
	reportAfterPolicyWrite = 5 * time.Minute
)

// TestPolicyReportsOfTheApp: Kyverno's reports controller, running in the cluster, reports on
// the app as it runs: the Deployment has a result of every policy that judges Deployments, its
// PostgreSQL StatefulSet and its pods are reported on too, and no report of the namespace holds
// a fail or an error. Then the counter-proof, on an object that exists although it breaks a
// policy: a Deployment without a liveness probe, created while require-probes was in Audit (so
// admitted), must show up as a require-probes fail, and only that (require-probes goes back to
// Deny when the test ends: each write of a policy makes the background scan start over).
func TestPolicyReportsOfTheApp(t *testing.T) {
	deployed(t)
	ctx := context.Background()
	if err := s.env.WaitAppReady(ctx, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	app := s.env.Base().Deployment
	var report reports.Report
	start := time.Now()
	waitReport(t, ctx, reportWait, "Deployment", app.GetName(), func(r reports.Report) error {
		report = r
		for _, p := range []string{"pod-security-restricted", "require-probes", "require-requests-limits", "require-read-only-root-fs"} {
			if len(r.Of(p)) == 0 {
				return fmt.Errorf("no result of %s yet", p)
			}
		}
		return nil
	})
	t.Logf("report on Deployment %s/%s after %s: %d results", scenario.Namespace, app.GetName(), time.Since(start).Round(time.Second), len(report.Results))
	for _, res := range report.Results {
		t.Logf("  %-28s %s", res.Policy, res.Result)
	}
	// The rest of what runs: PostgreSQL's StatefulSet and the pods, reported on as the scan
	// reaches them.
	var all []reports.Report
	wctx, cancelAll := context.WithTimeout(ctx, reportWait)
	defer cancelAll()
	if err := kube.Poll(wctx, "reports on the StatefulSet and the pods", 2*time.Second, func(ctx context.Context) error {
		var err error
		if all, err = reports.List(ctx, s.env.Admin, scenario.Namespace); err != nil {
			return err
		}
		kinds := map[string]int{}
		for _, r := range all {
			if r.Scope != nil {
				kinds[r.Scope.Kind]++
			}
		}
		if kinds["StatefulSet"] == 0 || kinds["Pod"] == 0 {
			return fmt.Errorf("reports by kind so far: %v", kinds)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	failing := reports.Failing(all)
	for _, f := range failing {
		t.Errorf("%s", f)
	}
	t.Logf("%d objects of %s reported on, %d failing results", len(all), scenario.Namespace, len(failing))

	// The counter-proof: a non-compliant object that exists.
	const policy = "require-probes"
	bad := scenario.Canary(s.env.Base(), "report-no-liveness", nil, false)
	var d appsv1.Deployment
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(bad.Object, &d); err != nil {
		t.Fatal(err)
	}
	d.Spec.Template.Spec.Containers[0].LivenessProbe = nil
	d.Spec.Replicas = new(int32) // no pods: only the Deployment is judged
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&d)
	if err != nil {
		t.Fatal(err)
	}
	bad = &unstructured.Unstructured{Object: m}
	unstructured.RemoveNestedField(bad.Object, "status")
	if err := setPolicyActions(ctx, policy, "Audit"); err != nil {
		t.Fatalf("switch %s to Audit: %v", policy, err)
	}
	t.Cleanup(func() {
		_ = s.env.Admin.Delete(context.Background(), bad)
		if err := setPolicyActions(context.Background(), policy, "Deny"); err != nil {
			t.Errorf("restore %s to Deny: %v", policy, err)
		}
	})
	// Kyverno picks the change up asynchronously: retry the create until it is admitted.
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := kube.Poll(wctx, "the Deployment without a liveness probe admitted under Audit", 250*time.Millisecond, func(ctx context.Context) error {
		_, err := s.env.Admin.Create(ctx, bad)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	waitReport(t, ctx, reportAfterPolicyWrite, "Deployment", bad.GetName(), func(r reports.Report) error {
		report = r
		if len(r.Of(policy)) == 0 {
			return fmt.Errorf("no result of %s yet", policy)
		}
		return nil
	})
	t.Logf("report on the non-compliant Deployment after %s:", time.Since(start).Round(time.Second))
	failed := 0
	for _, res := range report.Results {
		t.Logf("  %-28s %s %s", res.Policy, res.Result, res.Message)
		switch {
		case res.Policy == policy && res.Result == reports.Fail:
			failed++
			if !strings.Contains(strings.ToLower(res.Message), "liveness") {
				t.Errorf("%s fails for %q, want the missing liveness probe", policy, res.Message)
			}
		case res.Result == reports.Fail || res.Result == reports.Error:
			t.Errorf("%s %s: %s (only %s should fail)", res.Policy, res.Result, res.Message, policy)
		}
	}
	if failed == 0 {
		t.Errorf("the Deployment without a liveness probe is not reported as a %s fail", policy)
	}
}

// waitReport polls the app namespace's policy reports until the one about kind/name passes
// ready.
func waitReport(t *testing.T, ctx context.Context, wait time.Duration, kind, name string, ready func(reports.Report) error) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if err := kube.Poll(wctx, fmt.Sprintf("the policy report on %s %s/%s", kind, scenario.Namespace, name), 2*time.Second, func(ctx context.Context) error {
		all, err := reports.List(ctx, s.env.Admin, scenario.Namespace)
		if err != nil {
			return err
		}
		for _, r := range all {
			if r.About(kind, name) {
				return ready(r)
			}
		}
		return fmt.Errorf("none among the %d reports of the namespace", len(all))
	}); err != nil {
		t.Fatal(err)
	}
}

// setPolicyActions sets a ValidatingPolicy's validationActions (Deny, Audit, Warn).
func setPolicyActions(ctx context.Context, name string, actions ...any) error {
	policy := &unstructured.Unstructured{}
	policy.SetAPIVersion("policies.kyverno.io/v1")
	policy.SetKind("ValidatingPolicy")
	policy.SetName(name)
	live, err := s.env.Admin.Get(ctx, policy)
	if err != nil {
		return err
	}
	if err := unstructured.SetNestedSlice(live.Object, actions, "spec", "validationActions"); err != nil {
		return err
	}
	r, err := s.env.Admin.Resource(live)
	if err != nil {
		return err
	}
	_, err = r.Update(ctx, live, metav1.UpdateOptions{})
	return err
}
