package policies_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/platform-template/template-api/test/policies/internal/cases"
	"github.com/platform-template/template-api/test/policies/internal/coverage"
	"github.com/platform-template/template-api/test/policies/internal/kyverno"
)

// expectAnnotation on a bad test resource holds a substring of the message it must be refused
// with.
const expectAnnotation = "policies.test/expect-message"

type testSpec struct {
	Exceptions       []string `json:"exceptions"`
	Variables        string   `json:"variables"`
	ClusterResources []string `json:"clusterResources"`
	Resources        []string `json:"resources"`
}

type object struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
}

// TestRefusalMessages applies each policy to its test resources with `kyverno apply` and checks
// that every bad resource is refused with the reason written beside it, and that every other
// resource is not refused. `kyverno test` checks pass/fail; this checks why.
func TestRefusalMessages(t *testing.T) {
	kv := cli(t)
	_, policies, err := coverage.Check(filepath.Join(policiesDir(t), "base"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range policies {
		if p.Kind == "GeneratingPolicy" {
			continue // generates, never refuses: its kyverno-test.yaml compares the generated object
		}
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			checkMessages(t, kv, p)
		})
	}
}

func checkMessages(t *testing.T, kv kyverno.CLI, p coverage.Policy) {
	var spec testSpec
	readYAML(t, filepath.Join(p.Dir, "kyverno-test.yaml"), &spec)
	opts := kyverno.ApplyOptions{Policies: []string{filepath.Join(p.Dir, "policy.yaml")}}
	var objects []object
	for _, r := range spec.Resources {
		path := filepath.Join(p.Dir, r)
		opts.Resources = append(opts.Resources, path)
		objects = append(objects, readObjects(t, path)...)
	}
	for _, e := range spec.Exceptions {
		opts.Exceptions = append(opts.Exceptions, filepath.Join(p.Dir, e))
	}
	if spec.Variables != "" {
		opts.ValuesFile = filepath.Join(p.Dir, spec.Variables)
	}
	if len(spec.ClusterResources) > 0 {
		var crds []string
		opts.ContextFile, crds = contextFile(t, p.Dir, spec.ClusterResources)
		if len(crds) > 0 {
			opts.CRDs = []string{joinedCRDs(t, crds)}
		}
	}
	report, out, err := kv.Apply(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for _, o := range objects {
		s := kyverno.Subject{Kind: o.Kind, Namespace: o.Metadata.Namespace, Name: o.Metadata.Name}
		results := report.For(s, p.Name)
		want, isBad := o.Metadata.Annotations[expectAnnotation]
		var failed []string
		for _, r := range results {
			if r.Result == "fail" || r.Result == "error" {
				failed = append(failed, r.Result+": "+r.Message)
			}
		}
		switch {
		case isBad && len(failed) == 0:
			t.Errorf("%s: admitted, want refused with %q (results %+v)", s, want, results)
		case isBad:
			bad++
			joined := strings.Join(failed, "\n")
			if !strings.Contains(joined, want) {
				t.Errorf("%s: refused with\n  %s\nwant the message to contain\n  %s", s, joined, want)
			}
		case len(failed) > 0:
			t.Errorf("%s: refused, want admitted: %s", s, strings.Join(failed, "; "))
		}
	}
	if bad < coverage.MinBad {
		t.Errorf("only %d bad resource(s) carry %s, want at least %d\n%s", bad, expectAnnotation, coverage.MinBad, out)
	}
}

// contextFile turns the test's ClusterResource files into a cli.kyverno.io Context for
// `kyverno apply --context-file`, so resource.get finds the same objects as in `kyverno test`,
// and returns the CRD files they name.
func contextFile(t *testing.T, dir string, files []string) (string, []string) {
	t.Helper()
	var items []any
	var crds []string
	for _, f := range files {
		var cr struct {
			Spec struct {
				Resources []any    `json:"resources"`
				CRDs      []string `json:"crds"`
			} `json:"spec"`
		}
		readYAML(t, filepath.Join(dir, f), &cr)
		items = append(items, cr.Spec.Resources...)
		for _, c := range cr.Spec.CRDs {
			crds = append(crds, filepath.Join(dir, c))
		}
	}
	b, err := yaml.Marshal(map[string]any{
		"apiVersion": "cli.kyverno.io/v1alpha1",
		"kind":       "Context",
		"metadata":   map[string]any{"name": "context"},
		"spec":       map[string]any{"resources": items},
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "context.yaml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, crds
}

// joinedCRDs writes the CRD files into one: `kyverno apply --crd-paths` keeps the kinds of the
// last file only (`kyverno test` reads one CRD per file, hence the separate files).
func joinedCRDs(t *testing.T, files []string) string {
	t.Helper()
	var docs []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(b))
	}
	path := filepath.Join(t.TempDir(), "crds.yaml")
	if err := os.WriteFile(path, []byte(strings.Join(docs, "\n---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
}

func readObjects(t *testing.T, path string) []object {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []object
	for _, doc := range cases.SplitYAML(string(b)) {
		var o object
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatalf("parse %s: %v", path, err)
		}
		if o.Kind != "" {
			out = append(out, o)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s holds no objects", path)
	}
	return out
}
