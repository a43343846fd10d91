package cases

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// Adopt turns a policy folder's resources.yaml and kyverno-test.yaml, written in full, into
// the text of a cases.yaml: each resource becomes the base (a good workload, or an earlier case
// of its kind) with the smallest patch, or a whole object when no base is close. The cases are
// checked to build the very same resources and expectations before they are returned.
func Adopt(dir string, bases Bases) ([]byte, error) {
	var test struct {
		Variables        string   `json:"variables"`
		ClusterResources []string `json:"clusterResources"`
		Exceptions       []string `json:"exceptions"`
		Resources        []string `json:"resources"`
		Results          []struct {
			Kind      string   `json:"kind"`
			Resources []string `json:"resources"`
			Result    string   `json:"result"`
		} `json:"results"`
	}
	if err := readYAML(filepath.Join(dir, TestFile), &test); err != nil {
		return nil, err
	}
	expected := map[string]string{}
	for _, r := range test.Results {
		for _, n := range r.Resources {
			expected[r.Kind+"/"+n] = r.Result
		}
	}
	var objects []map[string]any
	for _, r := range test.Resources {
		objs, err := readObjects(filepath.Join(dir, r))
		if err != nil {
			return nil, err
		}
		objects = append(objects, objs...)
	}
	f := File{Variables: test.Variables, ClusterResources: test.ClusterResources, Exceptions: test.Exceptions}
	built := map[string]map[string]any{}
	for _, o := range objects {
		c, plain, err := adoptOne(o, bases, built, f.Cases)
		if err != nil {
			return nil, err
		}
		want, listed := expected[c.Kind+"/"+c.Name]
		if !listed {
			return nil, fmt.Errorf("%s %s: in the resources but without an expected result", c.Kind, c.Name)
		}
		if got, _ := c.result(); got != want {
			c.Result = want
		}
		built[c.Kind+"/"+c.Name] = plain
		f.Cases = append(f.Cases, c)
	}
	if len(f.Cases) != len(expected) {
		return nil, fmt.Errorf("%d expected results for %d resources", len(expected), len(f.Cases))
	}
	got, err := f.Objects(bases)
	if err != nil {
		return nil, err
	}
	if !sameObjects(got, objects) {
		return nil, fmt.Errorf("%s: the adopted cases do not build the same resources", dir)
	}
	text, err := f.encode(filepath.Base(dir))
	if err != nil {
		return nil, err
	}
	var back File
	if err := yaml.UnmarshalStrict(text, &back); err != nil {
		return nil, fmt.Errorf("%s: the adopted cases do not parse: %w", dir, err)
	}
	again, err := back.Objects(bases)
	if err != nil {
		return nil, fmt.Errorf("%s: the adopted cases, read back: %w", dir, err)
	}
	if !sameObjects(again, objects) || !sameResults(back, f) {
		return nil, fmt.Errorf("%s: the adopted cases, read back, do not build the same resources", dir)
	}
	return text, nil
}

func sameResults(a, b File) bool {
	if len(a.Cases) != len(b.Cases) {
		return false
	}
	for i := range a.Cases {
		ra, _ := a.Cases[i].result()
		rb, _ := b.Cases[i].result()
		if ra != rb || a.Cases[i].Refused != b.Cases[i].Refused {
			return false
		}
	}
	return true
}

// adoptOne picks the base with the smallest patch for o. plain is o without the expect
// annotation (what later cases may start from).
func adoptOne(o map[string]any, bases Bases, built map[string]map[string]any, earlier []Case) (Case, map[string]any, error) {
	plain := deepCopy(o).(map[string]any) //nolint:forcetypeassert // a copy of a map
	c := Case{Name: nameOf(o)}
	c.Kind, _ = o["kind"].(string)
	if meta, ok := plain["metadata"].(map[string]any); ok {
		if ann, ok := meta["annotations"].(map[string]any); ok {
			c.Refused, _ = ann[ExpectAnnotation].(string)
			delete(ann, ExpectAnnotation)
			if len(ann) == 0 {
				delete(meta, "annotations")
			}
		}
	}
	if c.Name == "" || c.Kind == "" {
		return Case{}, nil, fmt.Errorf("a resource without kind or metadata.name: %v", o)
	}
	// The candidates: the good workload of the kind, and every earlier case of the kind or,
	// for a workload, of another workload kind. A bad base costs a little: a case read against a
	// good one is clearer.
	refs := []string{""}
	for _, e := range earlier {
		switch {
		case e.Kind == c.Kind:
			refs = append(refs, e.Name)
		case podSpecPath(e.Kind) != nil && podSpecPath(c.Kind) != nil:
			refs = append(refs, e.Kind+"/"+e.Name)
		}
	}
	bad := map[string]bool{}
	for _, e := range earlier {
		bad[e.Kind+"/"+e.Name] = e.Refused != ""
	}
	whole, err := json.Marshal(plain)
	if err != nil {
		return Case{}, nil, fmt.Errorf("encode %s: %w", c.Name, err)
	}
	best := -1
	for _, ref := range refs {
		base, err := baseObject(c.Kind, c.Name, ref, bases, built)
		if err != nil {
			continue // no good workload of the kind, or a kind a pod spec cannot move to
		}
		ops := Diff(base, plain)
		b, err := json.Marshal(ops)
		if err != nil {
			return Case{}, nil, fmt.Errorf("encode a patch of %s: %w", c.Name, err)
		}
		cost := len(b)
		refKind, refName, cross := strings.Cut(ref, "/")
		if !cross {
			refKind, refName = c.Kind, ref
		}
		if bad[refKind+"/"+refName] {
			cost += 80
		}
		if cross {
			cost += 20
		}
		if best < 0 || cost < best {
			best, c.Base, c.Patch = cost, ref, ops
		}
	}
	// A patch as long as half the object says less than the object.
	if best < 0 || best > len(whole)/2 {
		c.Base, c.Patch, c.Object = "", nil, plain
	}
	return c, plain, nil
}

// encode writes the cases as YAML laid out for reading: one line per short patch operation.
func (f File) encode(policy string) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# The test cases of %s: `make kyverno-cases` generates resources.yaml and kyverno-test.yaml\n", policy)
	b.WriteString("# from them. A case is its base (the good workload of its kind in good-workloads.yaml, or the\n")
	b.WriteString("# earlier case named by base) renamed, plus the patch that makes it this case; a refused case\n")
	b.WriteString("# names a substring of the message it must be refused with. See policies/kyverno/README.md.\n")
	if f.Variables != "" {
		fmt.Fprintf(&b, "variables: %s\n", f.Variables)
	}
	writeList(&b, "clusterResources", f.ClusterResources)
	writeList(&b, "exceptions", f.Exceptions)
	b.WriteString("cases:\n")
	for _, c := range f.Cases {
		fmt.Fprintf(&b, "- name: %s\n  kind: %s\n", c.Name, c.Kind)
		if c.Base != "" {
			fmt.Fprintf(&b, "  base: %s\n", c.Base)
		}
		if c.Refused != "" {
			fmt.Fprintf(&b, "  refused: %s\n", inline(c.Refused))
		}
		if c.Result != "" {
			fmt.Fprintf(&b, "  result: %s\n", c.Result)
		}
		if len(c.Patch) > 0 {
			b.WriteString("  patch:\n")
		}
		for _, op := range c.Patch {
			if err := writeOp(&b, op); err != nil {
				return nil, err
			}
		}
		if c.Object != nil {
			y, err := yaml.Marshal(c.Object)
			if err != nil {
				return nil, fmt.Errorf("encode %s: %w", c.Name, err)
			}
			b.WriteString("  object:\n" + indent(string(y), "    "))
		}
	}
	return b.Bytes(), nil
}

func writeList(b *bytes.Buffer, key string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(b, "%s:\n", key)
	for _, i := range items {
		fmt.Fprintf(b, "- %s\n", i)
	}
}

func writeOp(b *bytes.Buffer, op Op) error {
	if op.Op == "remove" {
		fmt.Fprintf(b, "  - {op: remove, path: %s}\n", inline(op.Path))
		return nil
	}
	v := inline(op.Value)
	if line := fmt.Sprintf("  - {op: %s, path: %s, value: %s}\n", op.Op, inline(op.Path), v); len(line) <= 120 {
		b.WriteString(line)
		return nil
	}
	switch op.Value.(type) {
	case map[string]any, []any:
	default:
		fmt.Fprintf(b, "  - op: %s\n    path: %s\n    value: %s\n", op.Op, inline(op.Path), v)
		return nil
	}
	y, err := yaml.Marshal(op.Value)
	if err != nil {
		return fmt.Errorf("encode a patch value: %w", err)
	}
	fmt.Fprintf(b, "  - op: %s\n    path: %s\n    value:\n%s", op.Op, inline(op.Path), indent(string(y), "      "))
	return nil
}

// inline is v as one line of YAML: JSON (a subset of YAML's flow style), with strings left
// bare where YAML reads them back as the same string.
func inline(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	s := strings.TrimSpace(b.String())
	if str, ok := v.(string); ok && str != "" {
		var back any
		if err := yaml.Unmarshal([]byte("x: "+str), &back); err == nil {
			if m, ok := back.(map[string]any); ok && m["x"] == str && !strings.ContainsAny(str, "{}[],#&*!|>'\"%@`") {
				return str
			}
		}
	}
	return s
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" && l != "\n" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "")
}

func readYAML(path string, into any) error {
	b, err := os.ReadFile(path) //nolint:gosec // a file of a policy folder
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}

func readObjects(path string) ([]map[string]any, error) {
	b, err := os.ReadFile(path) //nolint:gosec // a file of a policy folder
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	var out []map[string]any
	for _, doc := range SplitYAML(string(b)) {
		var o map[string]any
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			return nil, fmt.Errorf("parse %s: %w", path, err)
		}
		if len(o) > 0 {
			out = append(out, o)
		}
	}
	return out, nil
}

// SplitYAML splits a multi-document YAML stream at its "---" lines.
func SplitYAML(s string) []string {
	var docs []string
	var cur []string
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimRight(line, " ") == "---" {
			docs = append(docs, strings.Join(cur, "\n"))
			cur = nil
			continue
		}
		cur = append(cur, line)
	}
	return append(docs, strings.Join(cur, "\n"))
}
