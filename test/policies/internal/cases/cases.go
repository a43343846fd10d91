// Package cases holds the test cases of a Kyverno policy in a form a reader can take in at a
// glance: each case is a good base resource plus the JSON patch (RFC 6902) that makes it what it
// is, with the reason a bad case must be refused for. It generates from them the files
// `kyverno test` reads (resources.yaml and kyverno-test.yaml), and can adopt resources written
// in full into cases.
package cases

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"sigs.k8s.io/yaml"
)

// File names in a policy folder.
const (
	CasesFile     = "cases.yaml"
	ResourcesFile = "resources.yaml"
	TestFile      = "kyverno-test.yaml"
	PolicyFile    = "policy.yaml"
)

// ExpectAnnotation on a generated bad resource holds the substring of the message it must be
// refused with (checked by test/policies with `kyverno apply`).
const ExpectAnnotation = "policies.test/expect-message"

// File is a policy folder's cases.yaml.
type File struct {
	// Variables, ClusterResources and Exceptions are copied into kyverno-test.yaml.
	Variables        string   `json:"variables,omitempty"`
	ClusterResources []string `json:"clusterResources,omitempty"`
	Exceptions       []string `json:"exceptions,omitempty"`
	Cases            []Case   `json:"cases"`
}

// Case is one test resource and what the policy must do with it.
type Case struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Base names an earlier case of the same kind; empty means the good workload of the kind
	// (Bases). The base's name is replaced by the case's wherever it appears.
	Base string `json:"base,omitempty"`
	// Refused is a substring of the message the policy must refuse the resource with; empty
	// means the resource is admitted.
	Refused string `json:"refused,omitempty"`
	// Result overrides the expected `kyverno test` result (skip: the policy does not apply).
	Result string `json:"result,omitempty"`
	// Patch turns the base into this case.
	Patch []Op `json:"patch,omitempty"`
	// Object is the whole resource, for a case no base fits (then Base and Patch are empty).
	Object map[string]any `json:"object,omitempty"`
}

// Bases are the good workloads, by kind, that cases start from.
type Bases map[string]map[string]any

// LoadBases reads a file holding a list `workloads` of good resources (YAML anchors let them
// share one pod spec).
func LoadBases(path string) (Bases, error) {
	b, err := os.ReadFile(path) //nolint:gosec // the bases file the caller names
	if err != nil {
		return nil, fmt.Errorf("read bases: %w", err)
	}
	var f struct {
		Workloads []map[string]any `json:"workloads"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("parse bases %s: %w", path, err)
	}
	out := Bases{}
	for _, w := range f.Workloads {
		kind, _ := w["kind"].(string)
		if kind == "" || nameOf(w) == "" {
			return nil, fmt.Errorf("bases %s: a workload without kind or metadata.name", path)
		}
		if _, dup := out[kind]; dup {
			return nil, fmt.Errorf("bases %s: two workloads of kind %s", path, kind)
		}
		out[kind] = w
	}
	return out, nil
}

// Load reads the cases.yaml of a policy folder; unknown fields are errors (a misspelt
// "refused" must not turn a bad case into a good one).
func Load(dir string) (*File, error) {
	b, err := os.ReadFile(filepath.Join(dir, CasesFile)) //nolint:gosec // a policy folder's cases
	if err != nil {
		return nil, fmt.Errorf("read cases: %w", err)
	}
	var f File
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, CasesFile), err)
	}
	return &f, nil
}

// Objects builds every case's resource, in order, with the expect annotation on bad ones.
func (f *File) Objects(bases Bases) ([]map[string]any, error) {
	built := map[string]map[string]any{} // kind/name -> the case's resource, before annotation
	var out []map[string]any
	for i, c := range f.Cases {
		obj, err := c.build(bases, built)
		if err != nil {
			return nil, fmt.Errorf("case %d (%s %s): %w", i+1, c.Kind, c.Name, err)
		}
		built[c.Kind+"/"+c.Name] = obj
		annotated := deepCopy(obj).(map[string]any)
		if c.Refused != "" {
			meta := annotated["metadata"].(map[string]any) //nolint:forcetypeassert // build checked it
			ann, _ := meta["annotations"].(map[string]any)
			if ann == nil {
				ann = map[string]any{}
				meta["annotations"] = ann
			}
			ann[ExpectAnnotation] = c.Refused
		}
		out = append(out, annotated)
	}
	return out, nil
}

func (c Case) build(bases Bases, built map[string]map[string]any) (map[string]any, error) {
	if c.Name == "" || c.Kind == "" {
		return nil, errors.New("a case needs a name and a kind")
	}
	if _, dup := built[c.Kind+"/"+c.Name]; dup {
		return nil, errors.New("two cases of this kind and name")
	}
	if _, err := c.result(); err != nil {
		return nil, err
	}
	var obj any
	if c.Object != nil {
		if c.Base != "" || len(c.Patch) > 0 {
			return nil, errors.New("a case holds either a whole object or a base and a patch, not both")
		}
		obj = deepCopy(c.Object)
	} else {
		named, err := baseObject(c.Kind, c.Name, c.Base, bases, built)
		if err != nil {
			return nil, err
		}
		if obj, err = Apply(named, c.Patch); err != nil {
			return nil, err
		}
	}
	m, ok := obj.(map[string]any)
	if !ok {
		return nil, errors.New("the resource is not an object")
	}
	if k, _ := m["kind"].(string); k != c.Kind {
		return nil, fmt.Errorf("the resource's kind is %q", k)
	}
	if n := nameOf(m); n != c.Name {
		return nil, fmt.Errorf("the resource's metadata.name is %q", n)
	}
	return m, nil
}

// baseObject is the base of a case of kind named name, renamed: ref "" is the good workload of
// the kind, "<name>" an earlier case of the kind, "<Kind>/<name>" an earlier workload of another
// kind whose pod spec goes into the good workload of this kind.
func baseObject(kind, name, ref string, bases Bases, built map[string]map[string]any) (map[string]any, error) {
	if ref == "" {
		b, ok := bases[kind]
		if !ok {
			return nil, fmt.Errorf("no good workload of kind %s to start from: name a base, or give the whole object", kind)
		}
		return renamed(b, name), nil
	}
	refKind, refName, cross := strings.Cut(ref, "/")
	if !cross {
		refKind, refName = kind, ref
	}
	b, ok := built[refKind+"/"+refName]
	if !ok {
		return nil, fmt.Errorf("base %q is no earlier case", ref)
	}
	if refKind == kind {
		return renamed(b, name), nil
	}
	shell, ok := bases[kind]
	from, to := podSpecPath(refKind), podSpecPath(kind)
	if !ok || from == nil || to == nil {
		return nil, fmt.Errorf("base %q: only a workload's pod spec carries over to another kind", ref)
	}
	spec, err := lookup(b, from)
	if err != nil {
		return nil, fmt.Errorf("base %q: %w", ref, err)
	}
	out, err := setAt(renamed(shell, name), to, rename(deepCopy(spec), refName, name))
	if err != nil {
		return nil, fmt.Errorf("base %q: %w", ref, err)
	}
	return out.(map[string]any), nil //nolint:forcetypeassert // setAt below the top returns doc
}

func renamed(obj map[string]any, to string) map[string]any {
	return rename(deepCopy(obj), nameOf(obj), to).(map[string]any) //nolint:forcetypeassert // a copy of a map
}

// podSpecPath is where a workload kind holds its pod spec (nil: not a workload).
func podSpecPath(kind string) []string {
	switch kind {
	case "Pod":
		return []string{"spec"}
	case "CronJob":
		return []string{"spec", "jobTemplate", "spec", "template", "spec"}
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job":
		return []string{"spec", "template", "spec"}
	default:
		return nil
	}
}

// result is the `kyverno test` result the case expects.
func (c Case) result() (string, error) {
	switch {
	case c.Result == "" && c.Refused != "":
		return "fail", nil
	case c.Result == "":
		return "pass", nil
	case c.Result == "fail" && c.Refused == "":
		return "", errors.New("result fail without refused: every refusal's reason is asserted")
	case c.Result == "fail", c.Result == "pass" && c.Refused == "", c.Result == "skip" && c.Refused == "":
		return c.Result, nil
	default:
		return "", fmt.Errorf("result %q with refused %q: want fail with a reason, or pass or skip without one", c.Result, c.Refused)
	}
}

// rename replaces every string value equal to from by to (a base's name in metadata.name,
// labels, selectors, serviceName).
func rename(v any, from, to string) any {
	switch c := v.(type) {
	case map[string]any:
		for k, e := range c {
			c[k] = rename(e, from, to)
		}
		return c
	case []any:
		for i, e := range c {
			c[i] = rename(e, from, to)
		}
		return c
	case string:
		if c == from {
			return to
		}
		return c
	default:
		return v
	}
}

func nameOf(obj any) string {
	m, _ := obj.(map[string]any)
	meta, _ := m["metadata"].(map[string]any)
	s, _ := meta["name"].(string)
	return s
}

// Generated is what `kyverno test` reads for one policy folder.
type Generated struct {
	Resources []byte
	Test      []byte
}

// Generate builds resources.yaml and kyverno-test.yaml of the policy folder dir from its
// cases.yaml.
func Generate(dir string, bases Bases) (Generated, error) {
	f, err := Load(dir)
	if err != nil {
		return Generated{}, err
	}
	var policy struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	b, err := os.ReadFile(filepath.Join(dir, PolicyFile)) //nolint:gosec // the policy beside the cases
	if err != nil {
		return Generated{}, fmt.Errorf("read policy: %w", err)
	}
	if err := yaml.Unmarshal(b, &policy); err != nil {
		return Generated{}, fmt.Errorf("parse %s: %w", filepath.Join(dir, PolicyFile), err)
	}
	flag := map[string]string{
		"ValidatingPolicy":          "isValidatingPolicy",
		"ImageValidatingPolicy":     "isImageValidatingPolicy",
		"ValidatingAdmissionPolicy": "isValidatingAdmissionPolicy",
	}[policy.Kind]
	if flag == "" {
		return Generated{}, fmt.Errorf("%s: cases are for validating policies, not %q", dir, policy.Kind)
	}
	objects, err := f.Objects(bases)
	if err != nil {
		return Generated{}, fmt.Errorf("%s: %w", filepath.Join(dir, CasesFile), err)
	}
	if len(objects) == 0 {
		return Generated{}, fmt.Errorf("%s: no cases", filepath.Join(dir, CasesFile))
	}

	var res bytes.Buffer
	fmt.Fprintf(&res, "# Generated from %s by `make kyverno-cases`: edit the cases, not this file.\n", CasesFile)
	for i, o := range objects {
		if i > 0 {
			res.WriteString("---\n")
		}
		y, err := yaml.Marshal(o)
		if err != nil {
			return Generated{}, fmt.Errorf("encode %s: %w", nameOf(o), err)
		}
		res.Write(y)
	}

	var results []map[string]any
	for _, c := range f.Cases {
		r, _ := c.result() // checked by Objects
		if n := len(results); n > 0 && results[n-1]["kind"] == c.Kind && results[n-1]["result"] == r {
			results[n-1]["resources"] = append(results[n-1]["resources"].([]string), c.Name) //nolint:forcetypeassert // built below
			continue
		}
		results = append(results, map[string]any{
			flag: true, "policy": policy.Metadata.Name, "kind": c.Kind,
			"resources": []string{c.Name}, "result": r,
		})
	}
	test := map[string]any{
		"apiVersion": "cli.kyverno.io/v1alpha1",
		"kind":       "Test",
		"metadata":   map[string]any{"name": policy.Metadata.Name},
		"policies":   []string{PolicyFile},
		"resources":  []string{ResourcesFile},
		"results":    results,
	}
	if f.Variables != "" {
		test["variables"] = f.Variables
	}
	if len(f.ClusterResources) > 0 {
		test["clusterResources"] = f.ClusterResources
	}
	if len(f.Exceptions) > 0 {
		test["exceptions"] = f.Exceptions
	}
	y, err := yaml.Marshal(test)
	if err != nil {
		return Generated{}, fmt.Errorf("encode the test: %w", err)
	}
	header := fmt.Sprintf("# Generated from %s by `make kyverno-cases`: edit the cases, not this file.\n", CasesFile)
	return Generated{Resources: res.Bytes(), Test: append([]byte(header), y...)}, nil
}

// sameObjects reports whether two lists of resources are equal as data.
func sameObjects(a, b []map[string]any) bool {
	return reflect.DeepEqual(deepCopy(toAny(a)), deepCopy(toAny(b)))
}

func toAny(objs []map[string]any) []any {
	out := make([]any, len(objs))
	for i, o := range objs {
		out[i] = o
	}
	return out
}

// Folders lists the policy folders under base that hold a cases.yaml, sorted.
func Folders(base string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(base, "*", CasesFile))
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	dirs := make([]string, len(matches))
	for i, m := range matches {
		dirs[i] = filepath.Dir(m)
	}
	return dirs, nil
}
