package policies_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/platform-template/template-api/test/internal/repo"
)

// variableOf returns the CEL expression of a policy's variable, whitespace collapsed.
func variableOf(t *testing.T, policy, name string) string {
	t.Helper()
	var p struct {
		Spec struct {
			Variables []struct {
				Name       string `json:"name"`
				Expression string `json:"expression"`
			} `json:"variables"`
		} `json:"spec"`
	}
	readYAML(t, filepath.Join(policiesDir(t), "base", policy, "policy.yaml"), &p)
	for _, v := range p.Spec.Variables {
		if v.Name == name {
			return strings.Join(strings.Fields(v.Expression), " ")
		}
	}
	t.Fatalf("policy %s has no variable %s", policy, name)
	return ""
}

// quoted lists the single-quoted strings of a CEL list literal.
func quoted(expr string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`'([^']*)'`).FindAllStringSubmatch(expr, -1) {
		out = append(out, m[1])
	}
	slices.Sort(out)
	return out
}

// TestSharedDefinitionsAgree: definitions that several policies (and the cluster's
// configuration) must share are identical, so that one cannot be widened without the others:
// what a workload identity may never hold (the binding and the role policy), the platform's
// namespaces (the two Kyverno RBAC policies, the in-API-server one, and every namespace some
// guardrail does not look at: those Kyverno's webhooks leave out or its resource filters skip,
// and those Pod Security exempts), the Pod Security exemptions (the API server's configuration
// and the namespace label guard), and the Pod Security version (the API server's default and the
// oldest version the namespace label guard accepts).
func TestSharedDefinitionsAgree(t *testing.T) {
	const bindings, roles = "disallow-service-account-cluster-admin", "restrict-bound-role-changes"
	if a, b := variableOf(t, bindings, "powers"), variableOf(t, roles, "powers"); a != b {
		t.Errorf("variable powers differs between %s and %s:\n%s\n%s", bindings, roles, a, b)
	}
	platform := quoted(variableOf(t, bindings, "platformNamespaces"))
	for _, p := range []string{roles, "restrict-platform-namespace-rbac"} {
		if got := quoted(variableOf(t, p, "platformNamespaces")); !slices.Equal(got, platform) {
			t.Errorf("%s: platformNamespaces %v, want %v (as in %s)", p, got, platform, bindings)
		}
	}
	if len(platform) == 0 {
		t.Fatal("no platform namespaces")
	}

	cluster := filepath.Join(repo.MustRoot(t), "k8s", "cluster")
	var psa struct {
		Plugins []struct {
			Name          string `json:"name"`
			Configuration struct {
				Defaults   map[string]string `json:"defaults"`
				Exemptions struct {
					Namespaces []string `json:"namespaces"`
					Usernames  []string `json:"usernames"`
				} `json:"exemptions"`
			} `json:"configuration"`
		} `json:"plugins"`
	}
	readYAML(t, filepath.Join(cluster, "pod-security-admission.yaml"), &psa)
	if len(psa.Plugins) != 1 || psa.Plugins[0].Name != "PodSecurity" {
		t.Fatalf("pod-security-admission.yaml: want one plugin, PodSecurity; got %+v", psa.Plugins)
	}
	conf := psa.Plugins[0].Configuration
	for _, mode := range []string{"enforce", "audit", "warn"} {
		if conf.Defaults[mode] != "restricted" {
			t.Errorf("Pod Security default %s is %q, want restricted", mode, conf.Defaults[mode])
		}
	}
	version := conf.Defaults["enforce-version"]
	if got := "v1." + variableOf(t, "restrict-namespace-security-labels", "minimumMinor"); got != version {
		t.Errorf("restrict-namespace-security-labels accepts Pod Security versions from %s, the API server's default is %s", got, version)
	}
	exempt := slices.Sorted(slices.Values(conf.Exemptions.Namespaces))
	if got := quoted(variableOf(t, "restrict-namespace-security-labels", "exempt")); !slices.Equal(got, exempt) {
		t.Errorf("restrict-namespace-security-labels exempts %v, the API server's Pod Security configuration %v", got, exempt)
	}
	if len(conf.Exemptions.Usernames) != 0 {
		t.Errorf("Pod Security exempts users %v: an exempt identity makes privileged pods anywhere", conf.Exemptions.Usernames)
	}
	if slices.Contains(exempt, "kyverno") {
		t.Error("the kyverno namespace is exempt from Pod Security: Kyverno's own pods run under restricted")
	}

	var cm struct {
		Data map[string]string `json:"data"`
	}
	readYAML(t, filepath.Join(cluster, "kyverno-config.yaml"), &cm)
	var hooks struct {
		NamespaceSelector struct {
			MatchExpressions []struct {
				Key      string   `json:"key"`
				Operator string   `json:"operator"`
				Values   []string `json:"values"`
			} `json:"matchExpressions"`
		} `json:"namespaceSelector"`
	}
	if err := yaml.Unmarshal([]byte(cm.Data["webhooks"]), &hooks); err != nil {
		t.Fatalf("kyverno-config.yaml webhooks: %v", err)
	}
	unseen := map[string]string{}
	for _, ns := range exempt {
		unseen[ns] = "Pod Security exempts it"
	}
	for _, e := range hooks.NamespaceSelector.MatchExpressions {
		if e.Key == "kubernetes.io/metadata.name" && e.Operator == "NotIn" {
			for _, ns := range e.Values {
				unseen[ns] = "Kyverno's webhooks leave it out"
			}
		}
	}
	for _, f := range regexp.MustCompile(`\[([^\]]*)\]`).FindAllStringSubmatch(cm.Data["resourceFilters"], -1) {
		if parts := strings.Split(f[1], ","); len(parts) == 3 && parts[1] != "*" && parts[1] != "" {
			unseen[parts[1]] = "Kyverno's resource filter [" + f[1] + "] skips it"
		}
	}
	for ns, why := range unseen {
		if !slices.Contains(platform, ns) {
			t.Errorf("namespace %s is seen by no guardrail (%s), but platformNamespaces %v leaves it out: a RoleBinding there would be judged by nothing", ns, why, platform)
		}
	}
	for _, ns := range platform {
		if _, ok := unseen[ns]; !ok {
			t.Errorf("platformNamespaces lists %s, which every guardrail sees: its ServiceAccounts would escape the RBAC power rules for nothing", ns)
		}
	}
}

// TestKyvernoResourceFilters: Kyverno's resource filters skip nothing an attacker can use: no
// ReplicaSet, no namespace beyond the ones its webhooks leave out anyway (and kind's storage
// namespace), no RBAC object by name.
func TestKyvernoResourceFilters(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repo.MustRoot(t), "k8s", "cluster", "kyverno-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal(b, &cm); err != nil {
		t.Fatal(err)
	}
	filters := regexp.MustCompile(`\[([^\]]*)\]`).FindAllStringSubmatch(cm.Data["resourceFilters"], -1)
	if len(filters) < 5 {
		t.Fatalf("only %d resource filters parsed from %q", len(filters), cm.Data["resourceFilters"])
	}
	allowedNamespaces := []string{"*", "kube-system", "kyverno", "local-path-storage"}
	for _, f := range filters {
		parts := strings.Split(f[1], ",")
		if len(parts) != 3 {
			t.Errorf("filter [%s]: want [kind,namespace,name]", f[1])
			continue
		}
		kind, ns, name := parts[0], parts[1], parts[2]
		switch {
		case strings.HasPrefix(kind, "ReplicaSet") || strings.HasPrefix(kind, "ReplicationController") || kind == "Pod" || kind == "Deployment":
			t.Errorf("filter [%s] skips a workload kind", f[1])
		case strings.Contains(kind, "Role"):
			t.Errorf("filter [%s] skips RBAC objects (by name %q)", f[1], name)
		case !slices.Contains(allowedNamespaces, ns):
			t.Errorf("filter [%s] skips namespace %s", f[1], ns)
		}
	}
}
