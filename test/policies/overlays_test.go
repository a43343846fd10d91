package policies_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/platform-template/template-api/test/internal/repo"
	"github.com/platform-template/template-api/test/policies/internal/kyverno"
	"github.com/platform-template/template-api/test/policies/internal/render"
)

// Each k8s overlay and the policy set it is deployed under: the kind demo runs the local set
// (loopback registries, the demo's named exceptions); staging and production the default set.
var overlayPolicySets = map[string]string{
	"kind":       "overlays/local",
	"staging":    "base",
	"production": "base",
}

// Policies that are not judged on rendered manifests, and why.
var notJudgedOnManifests = map[string]string{
	"ImageValidatingPolicy": "needs the real, signed image in a registry; the end-to-end tests deploy one",
	"GeneratingPolicy":      "creates objects, refuses nothing",
}

// TestRenderedOverlaysPassEveryPolicy renders k8s/overlays/{kind,staging,production} and
// applies every validating policy of the matching policy set to every rendered object: none may
// be refused. A missing overlay is a failure, not a skip.
func TestRenderedOverlaysPassEveryPolicy(t *testing.T) {
	kv := cli(t)
	k8s := filepath.Join(repo.MustRoot(t), "k8s")
	if _, err := os.Stat(k8s); err != nil {
		t.Fatalf("k8s/ is missing (%v): the rendered overlays must pass every policy, so there must be overlays to render", err)
	}
	for _, overlay := range []string{"kind", "staging", "production"} {
		t.Run(overlay, func(t *testing.T) {
			t.Parallel()
			objects, err := render.Build(filepath.Join(k8s, "overlays", overlay))
			if err != nil {
				t.Fatalf("render k8s/overlays/%s: %v", overlay, err)
			}
			report := judge(t, kv, overlayPolicySets[overlay], objects)
			refused := refusals(report)
			for _, r := range refused {
				t.Error(r)
			}
			// Not vacuous: the workloads were actually judged by the pod policies.
			judged := 0
			for s, results := range report {
				if s.Kind == "Deployment" || s.Kind == "StatefulSet" {
					judged += len(results)
				}
			}
			if judged == 0 {
				t.Errorf("no policy result for any Deployment or StatefulSet of k8s/overlays/%s: the check saw nothing", overlay)
			}
			t.Logf("k8s/overlays/%s: %d objects, %d policy results on workloads, %d refusals", overlay, len(objects), judged, len(refused))
		})
	}
}

// TestOverlayCheckFires shows the same check refusing a rendered overlay with one guardrail
// broken, so that it cannot pass vacuously.
func TestOverlayCheckFires(t *testing.T) {
	kv := cli(t)
	objects, err := render.Build(filepath.Join(repo.MustRoot(t), "k8s", "overlays", "production"))
	if err != nil {
		t.Fatal(err)
	}
	broken := false
	for _, o := range objects {
		if o.Kind() != "Deployment" || o.Name() != "template-api" {
			continue
		}
		spec := o["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
		for _, c := range spec["containers"].([]any) {
			sc := c.(map[string]any)["securityContext"].(map[string]any)
			sc["readOnlyRootFilesystem"] = false
			broken = true
		}
	}
	if !broken {
		t.Fatal("no Deployment template-api in k8s/overlays/production to break")
	}
	refused := strings.Join(refusals(judge(t, kv, "base", objects)), "\n")
	if !strings.Contains(refused, "require-read-only-root-fs") || !strings.Contains(refused, "readOnlyRootFilesystem must be true") {
		t.Errorf("a writable root filesystem in the production Deployment was not refused; refusals:\n%s", refused)
	}
}

// judge applies every Kyverno validating policy of the policy set (a folder under
// policies/kyverno) to the objects, with the set's exceptions, the rendered Namespaces as
// namespace values, and the rendered objects the policies look up (roles and bindings, quota and
// limits, Deployments and HPAs) as the cluster. (The set's ValidatingAdmissionPolicies are left
// to their own CLI tests and to the end-to-end tests, where the API server applies them to the
// deployed overlay: the CLI's apply cannot map the overlays' custom resources for them.)
func judge(t *testing.T, kv kyverno.CLI, set string, objects []render.Object) kyverno.Report {
	t.Helper()
	policySet, err := render.Build(filepath.Join(policiesDir(t), set))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var policies, exceptions, namespaces, lookups []render.Object
	for _, p := range policySet {
		switch {
		case p.Kind() == "PolicyException":
			exceptions = append(exceptions, p)
		case notJudgedOnManifests[p.Kind()] != "":
			t.Logf("%s %s is not applied to rendered manifests: %s", p.Kind(), p.Name(), notJudgedOnManifests[p.Kind()])
		case p.Kind() == "ValidatingPolicy":
			policies = append(policies, p)
		}
	}
	for _, o := range objects {
		switch o.Kind() {
		case "Namespace":
			namespaces = append(namespaces, o)
			lookups = append(lookups, o)
		case "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ResourceQuota", "LimitRange",
			"Deployment", "HorizontalPodAutoscaler":
			lookups = append(lookups, o)
		}
	}
	opts := kyverno.ApplyOptions{
		Policies:  []string{filepath.Join(dir, "policies.yaml")},
		Resources: []string{filepath.Join(dir, "resources.yaml")},
	}
	mustWrite(t, opts.Policies[0], policies)
	mustWrite(t, opts.Resources[0], objects)
	if len(exceptions) > 0 {
		opts.Exceptions = []string{filepath.Join(dir, "exceptions.yaml")}
		mustWrite(t, opts.Exceptions[0], exceptions)
	}
	opts.ValuesFile = filepath.Join(dir, "values.yaml")
	writeDoc(t, opts.ValuesFile, map[string]any{
		"apiVersion": "cli.kyverno.io/v1alpha1", "kind": "Value", "metadata": map[string]any{"name": "values"},
		"namespaces": namespaces,
	})
	opts.ContextFile = filepath.Join(dir, "context.yaml")
	writeDoc(t, opts.ContextFile, map[string]any{
		"apiVersion": "cli.kyverno.io/v1alpha1", "kind": "Context", "metadata": map[string]any{"name": "context"},
		"spec": map[string]any{"resources": lookups},
	})
	report, out, err := kv.Apply(context.Background(), opts)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return report
}

func refusals(report kyverno.Report) []string {
	var out []string
	for s, results := range report {
		for _, r := range results {
			if r.Result == "fail" || r.Result == "error" {
				out = append(out, s.String()+": "+r.Policy+": "+r.Result+": "+r.Message)
			}
		}
	}
	sort.Strings(out)
	return out
}

func mustWrite(t *testing.T, path string, objects []render.Object) {
	t.Helper()
	if err := render.WriteYAML(path, objects); err != nil {
		t.Fatal(err)
	}
}

func writeDoc(t *testing.T, path string, doc any) {
	t.Helper()
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
