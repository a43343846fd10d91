package guardrails

import (
	"context"
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/platform-template/template-api/test/e2e/internal/harness"
	"github.com/platform-template/template-api/test/e2e/internal/kube"
	"github.com/platform-template/template-api/test/e2e/internal/scenario"
)

// TestRedTeam runs the red-team table (scenario.RedTeam): every bad request, by the cluster
// admin or by the CI deployer, is refused by the component and policy it names and for its
// reason; every good control is admitted. See docs/threat-model.md, "Admission".
func TestRedTeam(t *testing.T) {
	deployed(t)
	ctx := context.Background()
	table := scenario.RedTeam()
	base := s.env.Base()
	if err := awaitAdmissionPolicies(ctx); err != nil {
		// Not fatal: each attempt then says what answered instead.
		t.Logf("WARNING: %v", err)
	}
	target := scenario.DebugTarget(base)
	if _, err := s.env.Admin.Create(ctx, target); err != nil {
		t.Fatalf("create the pod the debug attempts target: %s", kube.Classify(err))
	}
	t.Cleanup(func() { _ = s.env.Admin.Delete(context.Background(), target) })
	done := s.env.Timings.Track(fmt.Sprintf("red-team table (%d requests)", len(table)))
	for _, a := range table {
		t.Run(a.Class+"/"+a.Name, func(t *testing.T) {
			actx, auditID := s.audit.tag(ctx, "redteam", a.Class+"-"+a.Name)
			o := scenario.RunAttempt(actx, s.env, base, a)
			if a.Control() {
				s.redteamControls++
			} else {
				s.redteamRun++
			}
			if err := o.Check(); err != nil {
				t.Fatalf("%s (as %s): %v", a.What, actor(a), err)
			}
			if a.Control() {
				s.redteamAdmitted++
				t.Logf("ADMITTED (control) %s", a.What)
				return
			}
			s.redteamRefused++
			s.audit.expectAttempt("red-team table", auditID, a, base, o)
			t.Logf("REFUSED %s (as %s) by %s", a.What, actor(a), o.Refusal)
		})
	}
	done()
	checkAuditTrail(t, "red-team table") // each refusal is in the audit log, once
}

func actor(a scenario.Attempt) string {
	if a.As == "" {
		return "admin"
	}
	return a.As
}

// awaitAdmissionPolicies waits until the API server enforces the platform's
// ValidatingAdmissionPolicies (they are loaded asynchronously after they are created), and Kyverno
// one of the policies the table relies on, each shown by a dry-run its policy must refuse.
func awaitAdmissionPolicies(ctx context.Context) error {
	return s.env.AwaitCanaries(ctx, []harness.Canary{
		{Component: kube.AdmissionPolicy, Policy: "restrict-rbac-subjects", Obj: obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", "rt-canary", map[string]any{
			"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
			"subjects": []any{map[string]any{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:authenticated"}}})},
		{Component: kube.AdmissionPolicy, Policy: "restrict-platform-namespace-rbac", Obj: obj("rbac.authorization.k8s.io/v1", "RoleBinding", "kyverno", "rt-canary", map[string]any{
			"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
			"subjects": []any{map[string]any{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "rt-canary"}}})},
		{Component: kube.AdmissionPolicy, Policy: "restrict-namespace-security-labels", Obj: obj("v1", "Namespace", "", "rt-canary", nil, "pod-security.kubernetes.io/enforce", "privileged")},
		{Component: kube.AdmissionPolicy, Policy: "restrict-policy-exceptions", Obj: obj("policies.kyverno.io/v1", "PolicyException", scenario.Namespace, "rt-canary", map[string]any{
			"spec": map[string]any{"policyRefs": []any{map[string]any{"name": "require-probes", "kind": "ValidatingPolicy"}}}})},
		{Component: kube.Kyverno, Policy: "restrict-service-types", Obj: obj("v1", "Service", scenario.Namespace, "rt-canary", map[string]any{
			"spec": map[string]any{"type": "ExternalName", "externalName": "canary.example"}})},
	})
}

func obj(apiVersion, kind, ns, name string, fields map[string]any, labels ...string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	for k, v := range fields {
		u.Object[k] = v
	}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	if len(labels) == 2 {
		u.SetLabels(map[string]string{labels[0]: labels[1]})
	}
	return u
}
