package cases

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func parse(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDiffApplyRoundTrip(t *testing.T) {
	tests := []struct {
		name, from, to string
		ops            int
	}{
		{"equal", `{a: 1}`, `{a: 1}`, 0},
		{"replace a scalar", `{a: {b: 1}}`, `{a: {b: 2}}`, 1},
		{"add and remove members", `{a: 1, b: 2}`, `{b: 2, c: 3}`, 2},
		{"a key with a slash", `{l: {app.kubernetes.io/name: x}}`, `{l: {app.kubernetes.io/name: y}}`, 1},
		{"change inside a list element", `{c: [{n: a, p: 1}, {n: b}]}`, `{c: [{n: a}, {n: b}]}`, 1},
		{"insert at the front", `{c: [b, c]}`, `{c: [a, b, c]}`, 1},
		{"remove from the middle", `{c: [a, b, c, d]}`, `{c: [a, d]}`, 2},
		{"type change", `{a: [1]}`, `{a: {b: 1}}`, 1},
		{"whole document", `[1]`, `{a: 1}`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to := parse(t, tt.from), parse(t, tt.to)
			ops := Diff(from, to)
			if len(ops) != tt.ops {
				t.Errorf("Diff: %d operations %+v, want %d", len(ops), ops, tt.ops)
			}
			got, err := Apply(from, ops)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, to) {
				t.Errorf("Apply(Diff) = %v, want %v", got, to)
			}
			if !reflect.DeepEqual(from, parse(t, tt.from)) {
				t.Errorf("Apply changed its input: %v", from)
			}
		})
	}
}

func TestApplyRefusesBadOperations(t *testing.T) {
	doc := parse(t, `{a: {b: [1, 2]}}`)
	tests := []struct {
		op   Op
		want string
	}{
		{Op{Op: "remove", Path: "/a/c"}, `no member "c" to remove`},
		{Op{Op: "replace", Path: "/a/c", Value: 1}, `no member "c" to replace`},
		{Op{Op: "add", Path: "/x/y", Value: 1}, "/x does not exist"},
		{Op{Op: "remove", Path: "/a/b/5"}, "past the end"},
		{Op{Op: "add", Path: "/a/b/z", Value: 1}, "is not a number"},
		{Op{Op: "move", Path: "/a/b"}, `unknown operation "move"`},
		{Op{Op: "remove", Path: "a"}, "does not start with /"},
		{Op{Op: "remove", Path: ""}, "whole document"},
	}
	for _, tt := range tests {
		t.Run(tt.op.Op+" "+tt.op.Path, func(t *testing.T) {
			_, err := Apply(doc, []Op{tt.op})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

var testBases = Bases{
	"Pod": {"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "example", "labels": map[string]any{"app": "example"}},
		"spec": map[string]any{"containers": []any{map[string]any{"name": "api", "image": "a"}}}},
	"Deployment": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "example"},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{}}}},
}

func TestObjects(t *testing.T) {
	f := File{Cases: []Case{
		{Name: "good", Kind: "Pod"},
		{Name: "bad", Kind: "Pod", Base: "good", Refused: "no image b", Patch: []Op{{Op: "replace", Path: "/spec/containers/0/image", Value: "b"}}},
		{Name: "dep", Kind: "Deployment", Base: "Pod/bad"},
	}}
	objs, err := f.Objects(testBases)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{apiVersion: v1, kind: Pod, metadata: {name: good, labels: {app: good}}, spec: {containers: [{name: api, image: a}]}}`,
		`{apiVersion: v1, kind: Pod, metadata: {name: bad, labels: {app: bad}, annotations: {policies.test/expect-message: no image b}}, spec: {containers: [{name: api, image: b}]}}`,
		`{apiVersion: apps/v1, kind: Deployment, metadata: {name: dep}, spec: {template: {spec: {containers: [{name: api, image: b}]}}}}`,
	}
	for i, w := range want {
		if !reflect.DeepEqual(any(objs[i]), parse(t, w)) {
			t.Errorf("case %d: %v, want %v", i+1, objs[i], w)
		}
	}
}

func TestObjectsRefusesBadCases(t *testing.T) {
	tests := []struct {
		name string
		c    Case
		want string
	}{
		{"a refusal without its reason", Case{Name: "x", Kind: "Pod", Result: "fail"}, "without refused"},
		{"a reason on an admitted case", Case{Name: "x", Kind: "Pod", Result: "pass", Refused: "r"}, "want fail with a reason"},
		{"an unknown result", Case{Name: "x", Kind: "Pod", Result: "warn"}, `result "warn"`},
		{"no name", Case{Kind: "Pod"}, "needs a name and a kind"},
		{"an unknown base", Case{Name: "x", Kind: "Pod", Base: "nope"}, "is no earlier case"},
		{"a kind without a good workload", Case{Name: "x", Kind: "Service"}, "no good workload of kind Service"},
		{"a pod spec into a non-workload", Case{Name: "x", Kind: "Service", Base: "Pod/good"}, "only a workload's pod spec"},
		{"object and patch", Case{Name: "x", Kind: "Pod", Object: map[string]any{}, Patch: []Op{{Op: "remove", Path: "/a"}}}, "not both"},
		{"a patch renaming the resource", Case{Name: "x", Kind: "Pod", Patch: []Op{{Op: "replace", Path: "/metadata/name", Value: "y"}}}, `metadata.name is "y"`},
		{"a duplicate", Case{Name: "good", Kind: "Pod"}, "two cases of this kind and name"},
		{"a failing patch", Case{Name: "x", Kind: "Pod", Patch: []Op{{Op: "remove", Path: "/spec/volumes"}}}, `no member "volumes"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := File{Cases: []Case{{Name: "good", Kind: "Pod"}, tt.c}}
			_, err := f.Objects(testBases)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestLoadIsStrict: a misspelt field is an error, not a silently good case.
func TestLoadIsStrict(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, CasesFile), []byte("cases:\n- name: x\n  kind: Pod\n  refuse: oops\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "refuse") {
		t.Errorf("Load: %v, want an error naming the unknown field", err)
	}
}

// TestAdoptRoundTrip adopts full resources into cases and checks that the cases generate them.
func TestAdoptRoundTrip(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		PolicyFile: "apiVersion: policies.kyverno.io/v1\nkind: ValidatingPolicy\nmetadata:\n  name: p\n",
		TestFile: `results:
- {policy: p, kind: Pod, resources: [good], result: pass}
- {policy: p, kind: Pod, resources: [bad], result: fail}
- {policy: p, kind: Deployment, resources: [dep], result: skip}
- {policy: p, kind: Service, resources: [svc], result: pass}
resources: [resources.yaml]
`,
		ResourcesFile: `apiVersion: v1
kind: Pod
metadata: {name: good, labels: {app: good}}
spec: {containers: [{name: api, image: a}]}
---
apiVersion: v1
kind: Pod
metadata: {name: bad, labels: {app: bad}, annotations: {policies.test/expect-message: "image b: refused"}}
spec: {containers: [{name: api, image: b}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: dep}
spec: {template: {spec: {containers: [{name: api, image: a}]}}}
---
apiVersion: v1
kind: Service
metadata: {name: svc}
spec: {type: ClusterIP}
`,
	}
	for f, s := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	text, err := Adopt(dir, testBases)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"- name: bad\n  kind: Pod\n  refused: \"image b: refused\"\n  patch:\n  - {op: replace, path: /spec/containers/0/image, value: b}\n", "result: skip", "  object:\n"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("cases lack %q:\n%s", want, text)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, CasesFile), text, 0o600); err != nil {
		t.Fatal(err)
	}
	g, err := Generate(dir, testBases)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"isValidatingPolicy: true", "- bad\n  result: fail", "result: skip"} {
		if !strings.Contains(string(g.Test), want) {
			t.Errorf("kyverno-test.yaml lacks %q:\n%s", want, g.Test)
		}
	}
}
