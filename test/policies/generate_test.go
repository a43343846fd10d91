package policies_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/platform-template/template-api/test/policies/internal/cases"
	"github.com/platform-template/template-api/test/policies/internal/kyverno"
)

const generatePolicy = "generate-default-deny-networkpolicy"

// TestGeneratedDefaultDeny applies the generating policy to its test namespaces: each team
// namespace gets a NetworkPolicy that selects every pod and allows nothing, in and out, and the
// cluster's own namespaces get nothing (kyverno test cannot express "nothing generated").
func TestGeneratedDefaultDeny(t *testing.T) {
	kv := cli(t)
	dir := filepath.Join(policiesDir(t), "base", generatePolicy)
	out := t.TempDir()
	_, log, err := kv.Apply(context.Background(), kyverno.ApplyOptions{
		Policies:  []string{filepath.Join(dir, "policy.yaml")},
		Resources: []string{filepath.Join(dir, "resources.yaml")},
		OutputDir: out,
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, generatePolicy+"-generated.yaml"))
	if err != nil {
		t.Fatalf("no generated resources: %v\n%s", err, log)
	}
	generated := map[string]bool{}
	for _, doc := range cases.SplitYAML(string(b)) {
		var np struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
			Spec map[string]any `json:"spec"`
		}
		if err := yaml.Unmarshal([]byte(doc), &np); err != nil {
			t.Fatal(err)
		}
		if np.Kind == "" {
			continue
		}
		generated[np.Metadata.Namespace] = true
		if np.Kind != "NetworkPolicy" || np.Metadata.Name != "default-deny-all" {
			t.Errorf("generated %s %s, want NetworkPolicy default-deny-all", np.Kind, np.Metadata.Name)
		}
		if sel, ok := np.Spec["podSelector"].(map[string]any); !ok || len(sel) != 0 {
			t.Errorf("%s: podSelector %v, want {} (every pod)", np.Metadata.Namespace, np.Spec["podSelector"])
		}
		if types, _ := np.Spec["policyTypes"].([]any); len(types) != 2 {
			t.Errorf("%s: policyTypes %v, want Ingress and Egress", np.Metadata.Namespace, np.Spec["policyTypes"])
		}
		if _, ok := np.Spec["ingress"]; ok {
			t.Errorf("%s: the default deny has ingress rules", np.Metadata.Namespace)
		}
		if _, ok := np.Spec["egress"]; ok {
			t.Errorf("%s: the default deny has egress rules", np.Metadata.Namespace)
		}
	}
	for ns, want := range map[string]bool{"team-a": true, "template-api": true, "kube-system": false, "kyverno": false} {
		if generated[ns] != want {
			t.Errorf("namespace %s: generated=%v, want %v", ns, generated[ns], want)
		}
	}
}

// TestGenerateExpectationCanFail shows `kyverno test` failing when the expected generated
// object differs (a "default deny" that forgets egress), so the generating policy's test is
// not vacuous.
func TestGenerateExpectationCanFail(t *testing.T) {
	kv := cli(t)
	src := filepath.Join(policiesDir(t), "base", generatePolicy)
	dir := t.TempDir()
	for _, f := range []string{"policy.yaml", "resources.yaml", "kyverno-test.yaml", "generated-team-a.yaml", "generated-template-api.yaml"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "generated-team-a.yaml" {
			broken := strings.Replace(string(b), "    - Egress\n", "", 1)
			if broken == string(b) {
				t.Fatal("could not break the expected generated resource")
			}
			b = []byte(broken)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, ok, err := kv.Test(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Errorf("kyverno test passed expecting a NetworkPolicy without Egress:\n%s", out)
	}
}
