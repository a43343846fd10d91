package audit

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/platform-template/template-api/test/e2e/internal/kube"
)

// testdata/events.jsonl holds real events, as kube-apiserver v1.34.4 wrote them under
// k8s/cluster/audit-policy.yaml: ten from an e2e run of the guardrail matrix on the local
// cluster, one from an API server with a ValidatingAdmissionPolicy whose binding audits, then
// three from the red-team table (a refused exec, which gives a ResponseStarted and a
// ResponseComplete event, and a namespace update refused by a ValidatingAdmissionPolicy,
// recorded with its body).
func readTestdata(t *testing.T) []Event {
	t.Helper()
	f, err := os.Open("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	events, err := Read(f)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// byName finds the event about the object (or recorded under the audit ID ending) name, its
// ResponseComplete one where there are several.
func byName(t *testing.T, events []Event, name string) *Event {
	t.Helper()
	var found *Event
	for i := range events {
		e := &events[i]
		if (e.ObjectRef != nil && e.ObjectRef.Name == name) || strings.HasSuffix(e.AuditID, "-"+name) {
			if found == nil || e.Stage == StageResponseComplete {
				found = e
			}
		}
	}
	if found == nil {
		t.Fatalf("no event about %s in testdata", name)
	}
	return found
}

// TestRefusalsOfRealEvents: each refusal the API server recorded is read back as the
// component, webhook and policy that refused, who asked and what for.
func TestRefusalsOfRealEvents(t *testing.T) {
	events := readTestdata(t)
	if len(events) != 14 {
		t.Fatalf("%d events in testdata, want 14", len(events))
	}
	for _, c := range []struct {
		name, who, verb, object string
		component               kube.Component
		by, webhook             string
		policies                []string
		reason                  string
	}{
		{"e2e-psa-privileged", "e2e-admin", "create", "pods template-api/e2e-psa-privileged", kube.PodSecurity,
			"Pod Security Admission (restricted:v1.34)", "", nil, `privileged (container "api" must not set securityContext.privileged=true)`},
		{"e2e-kyverno-privileged", "e2e-admin", "create", "deployments.apps template-api/e2e-kyverno-privileged", kube.Kyverno,
			"Kyverno pod-security-restricted", "vpol.validate.kyverno.svc-fail", []string{"pod-security-restricted"}, "privileged containers are forbidden: api"},
		{"e2e-unsigned-image", "e2e-admin", "create", "deployments.apps template-api/e2e-unsigned-image", kube.Kyverno,
			"Kyverno verify-image-signatures", "ivpol.validate.kyverno.svc-fail", []string{"verify-image-signatures"}, "without a valid cosign signature"},
		{"ci-read-secret", "system:serviceaccount:template-api:ci-deployer (impersonated by e2e-admin)", "get", "secrets template-api/template-api-db", kube.RBAC,
			"RBAC", "", nil, `cannot get resource "secrets"`},
		{"ci-create-secret", "system:serviceaccount:template-api:ci-deployer (impersonated by e2e-admin)", "create", "secrets template-api/", kube.RBAC,
			"RBAC", "", nil, `cannot create resource "secrets"`},
		{"e2e-nodeport-service", "e2e-admin", "create", "services template-api/e2e-nodeport-service", kube.Kyverno,
			"Kyverno restrict-service-types", "vpol.validate.kyverno.svc-fail", []string{"restrict-service-types"}, "NodePort"},
		{"e2e-cluster-admin-binding", "e2e-admin", "create", "clusterrolebindings.rbac.authorization.k8s.io e2e-cluster-admin-binding", kube.Kyverno,
			"Kyverno disallow-service-account-cluster-admin", "vpol.validate.kyverno.svc-fail-finegrained-disallow-service-account-cluster-admin",
			[]string{"disallow-service-account-cluster-admin"}, "cluster-admin"},
		{"np1", "admin", "create", "services app/np1", kube.AdmissionPolicy,
			"ValidatingAdmissionPolicy no-nodeport", "", []string{"no-nodeport"}, "NodePort services are forbidden"},
		{"rbac-ci-exec", "system:serviceaccount:template-api:ci-deployer (impersonated by e2e-admin)", "create", "pods/exec template-api/rt-debug-target", kube.RBAC,
			"RBAC", "", nil, `cannot create resource "pods/exec"`},
		{"namespaces-remove-enforce-label", "e2e-admin", "update", "namespaces template-api/template-api", kube.AdmissionPolicy,
			"ValidatingAdmissionPolicy restrict-namespace-security-labels", "", []string{"restrict-namespace-security-labels"}, "must keep pod-security.kubernetes.io/enforce=restricted"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := byName(t, events, c.name)
			r := e.Refusal()
			if !e.Refused() || r.Component != c.component {
				t.Fatalf("refused %v by %q, want %s", e.Refused(), r.Component, c.component)
			}
			if got := e.Who(); got != c.who {
				t.Errorf("who %q, want %q", got, c.who)
			}
			if e.Verb != c.verb || e.Object() != c.object {
				t.Errorf("%s %s, want %s %s", e.Verb, e.Object(), c.verb, c.object)
			}
			if e.By() != c.by || r.Webhook != c.webhook || !slices.Equal(r.PolicyNames(), c.policies) {
				t.Errorf("by %q webhook %q policies %v, want %q %q %v", e.By(), r.Webhook, r.PolicyNames(), c.by, c.webhook, c.policies)
			}
			if !strings.Contains(r.Reason, c.reason) {
				t.Errorf("reason %q lacks %q", r.Reason, c.reason)
			}
			if ev := e.Evidence(); ev != "" {
				t.Errorf("the annotations disagree: %s", ev)
			}
			if len(e.RequestObject) > 0 != (e.Level == LevelRequestResponse) {
				t.Errorf("level %s with a request body: %v", e.Level, len(e.RequestObject) > 0)
			}
		})
	}
	for _, name := range []string{"e2e-audit-planted-5028d4c4", "e2e-audit-planted-5028d4c4-control", "e2e-audit-cost-0"} {
		if e := byName(t, events, name); e.Refused() || e.Refusal().Component != kube.None {
			t.Errorf("%s: an admitted request reads as refused: %s", name, e.Refusal())
		}
	}
	if e := byName(t, events, "e2e-audit-planted-5028d4c4"); len(e.RequestObject) > 0 || len(e.ResponseObject) > 0 || e.Level != LevelMetadata {
		t.Errorf("the Secret's update was recorded at %s with bodies", e.Level)
	}
	if e := byName(t, events, "e2e-audit-planted-5028d4c4-control"); e.Level != LevelRequestResponse || !bytes.Contains(e.RequestObject, []byte("e2e-audit-control")) {
		t.Errorf("the Role's create was recorded at %s without its body", e.Level)
	}
	for _, e := range ByID(events, byName(t, events, "rbac-ci-exec").AuditID) {
		if e.Stage == StageResponseStarted && (e.Refused() || e.Refusal().Component != kube.RBAC) {
			t.Errorf("the exec's ResponseStarted event: refused %v by %s; want it read as RBAC's answer but not counted", e.Refused(), e.Refusal().Component)
		}
	}
	if e := byName(t, events, "np1"); e.Code() != 422 || !strings.Contains(e.Annotations[AnnotationVAPFailure], `"policy":"no-nodeport"`) {
		t.Errorf("the ValidatingAdmissionPolicy refusal: code %d, annotation %q", e.Code(), e.Annotations[AnnotationVAPFailure])
	}
}

// TestEvidenceCatchesDisagreement: an event whose annotations contradict its answer is
// reported (a refusal blamed on RBAC that the authorizer allowed, Pod Security without its
// level, an admission refusal of a request the authorizer forbade).
func TestEvidenceCatchesDisagreement(t *testing.T) {
	events := readTestdata(t)
	for _, c := range []struct {
		name, key, value, want string
	}{
		{"ci-read-secret", AnnotationDecision, "allow", `decision is "allow"`},
		{"e2e-psa-privileged", AnnotationPodSecurity, "", "no " + AnnotationPodSecurity},
		{"e2e-kyverno-privileged", AnnotationDecision, "forbid", `authorizer said "forbid"`},
	} {
		e := *byName(t, events, c.name)
		e.Annotations = map[string]string{}
		for k, v := range byName(t, events, c.name).Annotations {
			e.Annotations[k] = v
		}
		if c.value == "" {
			delete(e.Annotations, c.key)
		} else {
			e.Annotations[c.key] = c.value
		}
		if got := e.Evidence(); !strings.Contains(got, c.want) {
			t.Errorf("%s with %s=%q: evidence %q, want it to say %q", c.name, c.key, c.value, got, c.want)
		}
	}
}

// TestScanRefusesWhatIsNotAnAuditLog: a line that is not an audit Event stops the scan with its
// line number, never its content.
func TestScanRefusesWhatIsNotAnAuditLog(t *testing.T) {
	good := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","verb":"get"}`
	for name, c := range map[string]struct{ log, want string }{
		"not JSON":      {good + "\npassword=hunter2 is not json\n", "line 2: not a JSON event"},
		"another kind":  {`{"kind":"Pod","apiVersion":"v1","secret":"hunter2"}`, "line 1: v1 Pod"},
		"older version": {`{"kind":"Event","apiVersion":"audit.k8s.io/v1beta1"}`, "want an audit.k8s.io/v1 Event"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Read(strings.NewReader(c.log))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to say %q", err, c.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error repeats the line's content: %v", err)
			}
		})
	}
	events, err := Read(strings.NewReader(good + "\n\n" + good)) // blank lines, no final newline
	if err != nil || len(events) != 2 {
		t.Fatalf("%d events, %v; want 2", len(events), err)
	}
}

// TestSummaryAndQueryOfRealEvents: who was refused by what, how often; and the query the
// workshop makes ("who tried to run a privileged pod").
func TestSummaryAndQueryOfRealEvents(t *testing.T) {
	f, err := os.Open("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Summarize(f)
	_ = f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Events != 14 || sum.Refused != 10 {
		t.Errorf("%d events, %d refused; want 14 and 10 (the exec once, not for its ResponseStarted event too)", sum.Events, sum.Refused)
	}
	want := []Count{
		{Who: "e2e-admin", By: "Kyverno", Times: 4, Details: map[string]int{"pod-security-restricted": 1, "verify-image-signatures": 1,
			"restrict-service-types": 1, "disallow-service-account-cluster-admin": 1}},
		{Who: "system:serviceaccount:template-api:ci-deployer", By: "RBAC", Times: 3, Details: map[string]int{"get secrets": 1, "create secrets": 1, "create pods/exec": 1}},
		{Who: "admin", By: "ValidatingAdmissionPolicy", Times: 1, Details: map[string]int{"no-nodeport": 1}},
		{Who: "e2e-admin", By: "Pod Security Admission (restricted:v1.34)", Times: 1, Details: map[string]int{}},
		{Who: "e2e-admin", By: "ValidatingAdmissionPolicy", Times: 1, Details: map[string]int{"restrict-namespace-security-labels": 1}},
	}
	got := sum.Counts()
	if len(got) != len(want) {
		t.Fatalf("counts %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Who != want[i].Who || got[i].By != want[i].By || got[i].Times != want[i].Times || len(got[i].Details) != len(want[i].Details) {
			t.Errorf("count %d: %+v, want %+v", i, got[i], want[i])
		}
		for k, n := range want[i].Details {
			if got[i].Details[k] != n {
				t.Errorf("count %d: %s %d times, want %d", i, k, got[i].Details[k], n)
			}
		}
	}
	var out strings.Builder
	sum.Write(&out, 2)
	if !strings.Contains(out.String(), "and 2 more") || !strings.Contains(out.String(), "system:serviceaccount:template-api:ci-deployer") {
		t.Errorf("summary:\n%s", out.String())
	}

	f, err = os.Open("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	lines, err := Refusals(f, Filter{Grep: "PRIVILEGED", Resource: "pods"})
	if err != nil {
		t.Fatal(err)
	}
	want1 := `2026-12-02T08:40:06Z e2e-admin: create pods template-api/e2e-psa-privileged REFUSED by Pod Security Admission (restricted:v1.34): privileged (container "api" must not set securityContext.privileged=true)`
	if len(lines) != 1 || !strings.HasPrefix(lines[0], want1) {
		t.Errorf("who tried to run a privileged pod: %q, want one line starting %q", lines, want1)
	}
	for _, c := range []struct {
		f    Filter
		want int
	}{
		{Filter{}, 10},
		{Filter{Who: "e2e-admin"}, 9}, // by the admin, impersonating or not
		{Filter{Who: "system:serviceaccount:template-api:ci-deployer"}, 3},
		{Filter{Resource: "deployments"}, 2},
		{Filter{Grep: "cosign"}, 1},
	} {
		n := 0
		for _, e := range readTestdata(t) {
			if c.f.Match(&e) {
				n++
			}
		}
		if n != c.want {
			t.Errorf("%+v matches %d, want %d", c.f, n, c.want)
		}
	}
}
