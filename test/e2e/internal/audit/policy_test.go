package audit

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/platform-template/template-api/test/internal/repo"
)

// The users the policy checks are run for: people and CI (who must always be on record), and
// the cluster's own components (whose heartbeats may be dropped).
var (
	people = []Request{
		{User: "alice", Groups: []string{"system:authenticated"}},
		{User: "e2e-admin", Groups: []string{"system:masters", "system:authenticated"}},
		{User: "system:serviceaccount:template-api:ci-deployer", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:template-api", "system:authenticated"}},
	}
	components = []Request{
		{User: "system:node:e2e-node", Groups: []string{"system:nodes", "system:authenticated"}},
		{User: "system:kube-controller-manager", Groups: []string{"system:authenticated"}},
		{User: "system:serviceaccount:kube-system:replicaset-controller", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"}},
		{User: "system:serviceaccount:kyverno:kyverno-admission-controller", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:kyverno", "system:authenticated"}},
		{User: "system:apiserver", Groups: []string{"system:masters", "system:authenticated"}},
	}
	everyone   = append(slices.Clone(people), components...)
	verbs      = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
	writes     = []string{"create", "update", "patch", "delete", "deletecollection"}
	namespaces = []string{"template-api", "kyverno", "kube-system", ""}
)

type resource struct{ group, resource, subresource, name string }

func (r resource) String() string {
	s := r.resource
	if r.group != "" {
		s += "." + r.group
	}
	if r.subresource != "" {
		s += "/" + r.subresource
	}
	return s
}

// secretMaterial is what may hold a secret: Secrets, ConfigMaps (apps put credentials there
// too; any name but Kyverno's own configuration), ServiceAccount tokens, TokenReviews.
var secretMaterial = []resource{
	{"", "secrets", "", "template-api-db"},
	{"", "configmaps", "", "app-settings"},
	{"", "configmaps", "", "kyverno-metrics"},
	{"", "serviceaccounts", "token", "ci-deployer"},
	{"authentication.k8s.io", "tokenreviews", "", ""},
}

// policyObjects decide what is allowed: their writes are recorded with their bodies.
var policyObjects = []resource{
	{"rbac.authorization.k8s.io", "roles", "", "x"},
	{"rbac.authorization.k8s.io", "rolebindings", "", "x"},
	{"rbac.authorization.k8s.io", "clusterroles", "", "x"},
	{"rbac.authorization.k8s.io", "clusterrolebindings", "", "x"},
	{"admissionregistration.k8s.io", "validatingadmissionpolicies", "", "x"},
	{"admissionregistration.k8s.io", "validatingadmissionpolicybindings", "", "x"},
	{"admissionregistration.k8s.io", "mutatingadmissionpolicies", "", "x"},
	{"admissionregistration.k8s.io", "mutatingadmissionpolicybindings", "", "x"},
	{"admissionregistration.k8s.io", "validatingwebhookconfigurations", "", "x"},
	{"admissionregistration.k8s.io", "mutatingwebhookconfigurations", "", "x"},
	{"kyverno.io", "clusterpolicies", "", "x"},
	{"kyverno.io", "policies", "", "x"},
	{"kyverno.io", "policyexceptions", "", "x"},
	{"policies.kyverno.io", "validatingpolicies", "", "x"},
	{"policies.kyverno.io", "imagevalidatingpolicies", "", "x"},
	{"policies.kyverno.io", "mutatingpolicies", "", "x"},
	{"policies.kyverno.io", "generatingpolicies", "", "x"},
	{"policies.kyverno.io", "deletingpolicies", "", "x"},
	{"policies.kyverno.io", "policyexceptions", "", "x"},
	{"", "namespaces", "", "template-api"},
	{"", "configmaps", "", "kyverno"}, // Kyverno's configuration (in namespace kyverno only)
}

// ordinary resources a request of the guardrail matrix or of an investigation touches.
var ordinary = []resource{
	{"", "pods", "", "x"}, {"", "pods", "exec", "x"}, {"", "pods", "ephemeralcontainers", "x"}, {"", "pods", "log", "x"},
	{"apps", "deployments", "", "x"}, {"", "services", "", "x"}, {"", "serviceaccounts", "", "x"},
	{"networking.k8s.io", "networkpolicies", "", "x"}, {"", "nodes", "", "x"},
	{"coordination.k8s.io", "leases", "", "x"}, {"", "events", "", "x"}, {"events.k8s.io", "events", "", "x"},
	{"policies.kyverno.io", "validatingpolicies", "status", "x"},
	{"wgpolicyk8s.io", "policyreports", "", "x"}, {"reports.kyverno.io", "ephemeralreports", "", "x"},
	{"authorization.k8s.io", "subjectaccessreviews", "", ""},
}

func request(who Request, verb string, r resource, ns string) Request {
	who.Verb, who.APIGroup, who.Resource, who.Subresource, who.Name, who.Namespace = verb, r.group, r.resource, r.subresource, r.name, ns
	return who
}

func describe(r Request) string {
	if r.Resource == "" {
		return fmt.Sprintf("%s %s by %s", r.Verb, r.Path, r.User)
	}
	return fmt.Sprintf("%s %s %q in %q by %s", r.Verb, resource{r.APIGroup, r.Resource, r.Subresource, ""}, r.Name, r.Namespace, r.User)
}

// policyProblems lists every way the policy breaks the promises of k8s/cluster/audit-policy.yaml.
func policyProblems(p *Policy) []string {
	var out []string
	if !slices.Contains(p.OmitStages, "RequestReceived") {
		out = append(out, "RequestReceived is not omitted: every request would be written twice")
	}
	if n := len(p.Rules); n == 0 || !p.Rules[n-1].matches(Request{User: "anyone", Verb: "get", Resource: "anything"}) ||
		!p.Rules[n-1].matches(Request{User: "anyone", Verb: "get", Path: "/anything"}) || p.Rules[n-1].Level != LevelMetadata {
		out = append(out, "the last rule is not a catch-all at Metadata")
	}
	check := func(r Request, ok func(level string) bool, want string) {
		if lvl, i := p.Level(r); !ok(lvl) {
			out = append(out, fmt.Sprintf("%s is recorded at %s (rule %d), want %s", describe(r), lvl, i+1, want))
		}
	}
	atMetadata := func(l string) bool { return l == LevelMetadata }
	for _, who := range everyone {
		for _, v := range verbs {
			for _, ns := range namespaces {
				for _, r := range secretMaterial {
					check(request(who, v, r, ns), atMetadata, "Metadata: recorded, never its content")
				}
			}
		}
	}
	for _, who := range everyone {
		for _, r := range policyObjects {
			ns := "template-api"
			if r.resource == "configmaps" {
				ns = "kyverno"
			}
			for _, v := range writes {
				check(request(who, v, r, ns), func(l string) bool { return l == LevelRequestResponse }, "RequestResponse")
			}
			for _, v := range []string{"get", "list", "watch"} {
				check(request(who, v, r, ns), atMetadata, "Metadata (reads carry no change)")
			}
			status := r
			status.subresource = "status"
			for _, v := range []string{"update", "patch"} {
				check(request(who, v, status, ns), atMetadata, "Metadata (the controllers' status updates)")
			}
		}
	}
	for _, who := range people {
		for _, v := range verbs {
			for _, r := range ordinary {
				check(request(who, v, r, "template-api"), func(l string) bool { return Above(l, LevelNone) }, "recorded (a person's request)")
			}
		}
	}
	for _, who := range components {
		for _, r := range []resource{{"coordination.k8s.io", "leases", "", "x"}, {"", "events", "", "x"}} {
			check(request(who, "update", r, "kube-system"), func(l string) bool { return l == LevelNone }, "None (the cluster's own heartbeat)")
		}
	}
	kyverno := components[3]
	for _, r := range []resource{{"wgpolicyk8s.io", "policyreports", "", "x"}, {"reports.kyverno.io", "ephemeralreports", "", "x"},
		{"authorization.k8s.io", "subjectaccessreviews", "", ""}} {
		check(request(kyverno, "create", r, "template-api"), func(l string) bool { return l == LevelNone }, "None (Kyverno's bookkeeping)")
	}
	for _, path := range []string{"/healthz", "/readyz", "/livez", "/version", "/apis/apps/v1", "/openapi/v3"} {
		check(Request{User: "alice", Verb: "get", Path: path}, func(l string) bool { return l == LevelNone }, "None (health, discovery)")
	}
	check(Request{User: "alice", Verb: "get", Path: "/metrics"}, atMetadata, "Metadata")
	return out
}

func repoPolicy(t *testing.T) *Policy {
	t.Helper()
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	p, err := LoadPolicy(filepath.Join(root, "k8s", "cluster", "audit-policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAuditPolicyNeverLogsSecretBodies, with the repository's policy: Secrets, ConfigMaps,
// tokens and TokenReviews are recorded at Metadata for everyone, whatever the verb; RBAC and
// policy objects' writes with their bodies; a person's every request is recorded; only the
// cluster's own heartbeats, health and discovery are dropped.
func TestAuditPolicyNeverLogsSecretBodies(t *testing.T) {
	for _, p := range policyProblems(repoPolicy(t)) {
		t.Error(p)
	}
}

// TestAuditPolicyRecordsEveryUserRequest: every request of the guardrail matrix's users is
// recorded (at least Metadata), whatever the resource: a refusal is always on record.
func TestAuditPolicyRecordsEveryUserRequest(t *testing.T) {
	p := repoPolicy(t)
	for _, who := range people {
		for _, v := range verbs {
			for _, r := range append(append(slices.Clone(ordinary), secretMaterial...), policyObjects...) {
				if lvl, i := p.Level(request(who, v, r, "template-api")); lvl == LevelNone {
					t.Errorf("%s is not recorded (rule %d)", describe(request(who, v, r, "template-api")), i+1)
				}
			}
		}
	}
}

// TestAuditPolicyCheckFires: each way of breaking the policy is caught by policyProblems.
func TestAuditPolicyCheckFires(t *testing.T) {
	mutants := map[string]struct {
		mutate func(*Policy)
		want   string
	}{
		"bodies of everything first": {func(p *Policy) {
			p.Rules = append([]PolicyRule{{Level: LevelRequestResponse}}, p.Rules...)
		}, "secrets \"template-api-db\""},
		"secrets at Request for writes": {func(p *Policy) {
			p.Rules = append([]PolicyRule{{Level: LevelRequest, Verbs: []string{"create"}, Resources: []GroupResources{{Group: ""}}}}, p.Rules...)
		}, "create secrets"},
		"configmaps logged with bodies": {func(p *Policy) {
			for i := range p.Rules {
				for j := range p.Rules[i].Resources {
					p.Rules[i].Resources[j].ResourceNames = nil
				}
			}
		}, "configmaps \"app-settings\""},
		"secret reads dropped for the controllers": {func(p *Policy) {
			p.Rules = append([]PolicyRule{{Level: LevelNone, UserGroups: []string{"system:serviceaccounts:kube-system"},
				Resources: []GroupResources{{Group: "", Resources: []string{"secrets"}}}}}, p.Rules...)
		}, "secrets \"template-api-db\" in \"kube-system\" by system:serviceaccount:kube-system:replicaset-controller is recorded at None"},
		"no catch-all":    {func(p *Policy) { p.Rules = p.Rules[:len(p.Rules)-1] }, "catch-all"},
		"catch-all drops": {func(p *Policy) { p.Rules[len(p.Rules)-1].Level = LevelNone }, "create pods"},
		"RBAC without bodies": {func(p *Policy) {
			for i := range p.Rules {
				p.Rules[i].Resources = slices.DeleteFunc(slices.Clone(p.Rules[i].Resources), func(g GroupResources) bool { return g.Group == "rbac.authorization.k8s.io" })
			}
		}, "create rolebindings.rbac.authorization.k8s.io"},
		"policy status with bodies": {func(p *Policy) {
			p.Rules = append([]PolicyRule{{Level: LevelRequestResponse, Verbs: writes,
				Resources: []GroupResources{{Group: "policies.kyverno.io"}}}}, p.Rules...)
		}, "update validatingpolicies.policies.kyverno.io/status"},
		"leases of people dropped": {func(p *Policy) {
			p.Rules = append([]PolicyRule{{Level: LevelNone, Resources: []GroupResources{{Group: "coordination.k8s.io"}}}}, p.Rules...)
		}, "by alice is recorded at None"},
		"RequestReceived kept": {func(p *Policy) { p.OmitStages = nil }, "RequestReceived"},
	}
	for name, m := range mutants {
		t.Run(name, func(t *testing.T) {
			p := repoPolicy(t)
			m.mutate(p)
			problems := policyProblems(p)
			if !slices.ContainsFunc(problems, func(s string) bool { return strings.Contains(s, m.want) }) {
				t.Errorf("no problem mentions %q; got %d: %.3q", m.want, len(problems), problems)
			}
		})
	}
}

// TestPolicyLevelMatchesTheAPIServersRules: the matcher's corner cases, as kube-apiserver's
// checker decides them.
func TestPolicyLevelMatchesTheAPIServersRules(t *testing.T) {
	p := &Policy{Rules: []PolicyRule{
		{Level: LevelNone, NonResourceURLs: []string{"/healthz*"}},
		{Level: LevelRequest, Resources: []GroupResources{{Group: "", Resources: []string{"pods/*"}}}},
		{Level: LevelRequestResponse, Resources: []GroupResources{{Group: "apps", Resources: []string{"*/scale"}}}},
		{Level: LevelRequestResponse, Namespaces: []string{"kyverno"}, Resources: []GroupResources{{Group: "", Resources: []string{"configmaps"}, ResourceNames: []string{"kyverno"}}}},
		{Level: LevelNone, Users: []string{"bob"}, UserGroups: []string{"ops"}},
		{Level: LevelMetadata},
	}}
	for _, c := range []struct {
		r    Request
		want string
		rule int
	}{
		{Request{Verb: "get", Path: "/healthz/etcd"}, LevelNone, 0},
		{Request{Verb: "get", Resource: "healthz"}, LevelMetadata, 5}, // a resource request never matches a URL rule
		{Request{Verb: "get", Resource: "pods"}, LevelRequest, 1},     // "pods/*" matches pods itself too
		{Request{Verb: "create", Resource: "pods", Subresource: "exec"}, LevelRequest, 1},
		{Request{Verb: "update", APIGroup: "apps", Resource: "deployments", Subresource: "scale"}, LevelRequestResponse, 2},
		{Request{Verb: "update", Resource: "configmaps", Namespace: "kyverno", Name: "kyverno"}, LevelRequestResponse, 3},
		{Request{Verb: "update", Resource: "configmaps", Namespace: "kyverno", Name: "other"}, LevelMetadata, 5},
		{Request{Verb: "update", Resource: "configmaps", Namespace: "app", Name: "kyverno"}, LevelMetadata, 5},
		{Request{User: "bob", Groups: []string{"dev"}, Verb: "get", Resource: "services"}, LevelMetadata, 5}, // users AND groups
		{Request{User: "bob", Groups: []string{"ops"}, Verb: "get", Resource: "services"}, LevelNone, 4},
	} {
		if got, i := p.Level(c.r); got != c.want || i != c.rule {
			t.Errorf("%s: level %s by rule %d, want %s by rule %d", describe(c.r), got, i, c.want, c.rule)
		}
	}
}
