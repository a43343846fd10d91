package workflows

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/platform-template/template-api/test/workflows/mutate"
	"github.com/platform-template/template-api/test/workflows/rules"
	"go.yaml.in/yaml/v4"
)

// The fixtures: testdata/good/pipeline.yaml follows every rule; each testdata/bad/<name>.yaml
// is that pipeline with one change (a few edits by path), the rule it must break, the words of
// the refusal, and the other rules the change is allowed to break too. The pipeline is read
// beside the repository's own workflows, as .github/workflows/pipeline.yaml.

const fixturePath = ".github/workflows/pipeline.yaml"

type fixture struct {
	// File is the repository's workflow the edits change, when not the good pipeline.
	File   string            `yaml:"file"`
	Rule   string            `yaml:"rule"`
	Reason string            `yaml:"reason"`
	Also   []string          `yaml:"also"`
	Files  map[string]string `yaml:"files"`
	Edits  []edit            `yaml:"edits"`
}

// edit changes the node at Path: "" is the document, then mapping keys, and in a list an
// index or key=value (the item whose key has that value; uses=name matches the action's last
// path element, uses=setup-buildx-action).
type edit struct {
	Path    string    `yaml:"path"`
	Set     yaml.Node `yaml:"set"`     // keys merged into the mapping at Path
	Delete  []string  `yaml:"delete"`  // keys removed from the mapping at Path
	Remove  bool      `yaml:"remove"`  // the node at Path removed from its list or mapping
	Before  yaml.Node `yaml:"before"`  // a list item inserted before the node at Path
	Replace yaml.Node `yaml:"replace"` // the node at Path replaced
	Text    *struct { // text replaced: every occurrence in the scalar at Path, or the one occurrence in the file when Path is ""
		Old string `yaml:"old"`
		New string `yaml:"new"`
	} `yaml:"text"`
}

func goodPipeline(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "good", "pipeline.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// resolve finds the node at a path, with its parent and the index of the node in the parent's
// content.
func resolve(root *yaml.Node, p string) (node, parent *yaml.Node, idx int, err error) {
	node, idx = root, -1
	if p == "" {
		return node, nil, -1, nil
	}
	for _, seg := range strings.Split(p, "/") {
		parent = node
		switch node.Kind {
		case yaml.MappingNode:
			found := false
			for i := 0; i+1 < len(node.Content); i += 2 {
				if node.Content[i].Value == seg {
					node, idx, found = node.Content[i+1], i+1, true
					break
				}
			}
			if !found {
				return nil, nil, 0, fmt.Errorf("no key %q in %q", seg, p)
			}
		case yaml.SequenceNode:
			if n, err := strconv.Atoi(seg); err == nil && n < len(node.Content) {
				node, idx = node.Content[n], n
				continue
			}
			k, v, ok := strings.Cut(seg, "=")
			found := false
			for i, item := range node.Content {
				got := mutate.Str(item, k)
				action, _, _ := strings.Cut(got, "@")
				if ok && (got == v || k == "uses" && strings.HasSuffix(action, "/"+v)) {
					node, idx, found = item, i, true
					break
				}
			}
			if !found {
				return nil, nil, 0, fmt.Errorf("no item %q in %q", seg, p)
			}
		default:
			return nil, nil, 0, fmt.Errorf("%q: cannot go into a scalar", p)
		}
	}
	return node, parent, idx, nil
}

// apply makes a fixture's change to the good pipeline.
func (fx fixture) apply(good []byte) ([]byte, error) {
	data := good
	for _, e := range fx.Edits {
		if e.Text != nil && e.Path == "" {
			if n := strings.Count(string(data), e.Text.Old); n != 1 {
				return nil, fmt.Errorf("text %q is in the pipeline %d times, want once", e.Text.Old, n)
			}
			data = []byte(strings.Replace(string(data), e.Text.Old, e.Text.New, 1))
			continue
		}
		doc, err := mutate.Parse(fixturePath, data)
		if err != nil {
			return nil, err
		}
		node, parent, idx, err := resolve(doc.Root, e.Path)
		if err != nil {
			return nil, err
		}
		switch {
		case e.Text != nil:
			if !strings.Contains(node.Value, e.Text.Old) {
				return nil, fmt.Errorf("%s does not contain %q", e.Path, e.Text.Old)
			}
			node.Value = strings.ReplaceAll(node.Value, e.Text.Old, e.Text.New)
		case e.Set.Kind != 0:
			for i := 0; i+1 < len(e.Set.Content); i += 2 {
				mutate.Set(node, e.Set.Content[i].Value, e.Set.Content[i+1])
			}
		case len(e.Delete) > 0:
			for _, k := range e.Delete {
				if !mutate.Delete(node, k) {
					return nil, fmt.Errorf("%s has no key %q", e.Path, k)
				}
			}
		case e.Remove:
			if parent.Kind == yaml.MappingNode {
				parent.Content = slices.Delete(parent.Content, idx-1, idx+1)
			} else {
				parent.Content = slices.Delete(parent.Content, idx, idx+1)
			}
		case e.Before.Kind != 0:
			parent.Content = slices.Insert(parent.Content, idx, &e.Before)
		case e.Replace.Kind != 0:
			parent.Content[idx] = &e.Replace
		default:
			return nil, fmt.Errorf("edit of %q does nothing", e.Path)
		}
		data = doc.Bytes()
	}
	return data, nil
}

func readFixture(t *testing.T, name string) fixture {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "bad", name))
	if err != nil {
		t.Fatal(err)
	}
	var fx fixture
	if err := yaml.Unmarshal(data, &fx); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if fx.Rule == "" || fx.Reason == "" || len(fx.Edits) == 0 && len(fx.Files) == 0 {
		t.Fatalf("%s: a fixture names its rule, the words of the refusal and its change", name)
	}
	return fx
}

func TestGoodFixtureFollowsEveryRule(t *testing.T) {
	files := realFiles(t)
	files[fixturePath] = goodPipeline(t)
	for _, f := range check(t, files, config(t)) {
		t.Error(f)
	}
}

// Each bad fixture breaks its rule, with its reason, and no rule it does not name.
func TestEachCheckRefusesItsBadFixture(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join("testdata", "bad"))
	if err != nil {
		t.Fatal(err)
	}
	good, cfg := goodPipeline(t), config(t)
	names := rules.Names()
	for _, e := range entries {
		t.Run(e.Name(), func(t *testing.T) {
			fx := readFixture(t, e.Name())
			for _, r := range append([]string{fx.Rule}, fx.Also...) {
				if !slices.Contains(names, r) {
					t.Fatalf("no rule %q", r)
				}
			}
			files := realFiles(t)
			target, base := fixturePath, good
			if fx.File != "" {
				target, base = ".github/workflows/"+fx.File, files[".github/workflows/"+fx.File]
			} else {
				files[fixturePath] = good
			}
			bad, err := fx.apply(base)
			if err != nil {
				t.Fatalf("the fixture no longer applies to %s: %v", target, err)
			}
			files[target] = bad
			for p, content := range fx.Files {
				files[p] = []byte(content)
			}
			matched := false
			var all []string
			for _, f := range check(t, files, cfg) {
				all = append(all, "  "+f.String())
				if f.Rule == fx.Rule && strings.Contains(f.Message, fx.Reason) {
					matched = true
				}
				if f.Rule != fx.Rule && !slices.Contains(fx.Also, f.Rule) {
					t.Errorf("the fixture should break %s (and %v), but %s fired too: %s", fx.Rule, fx.Also, f.Rule, f)
				}
			}
			if !matched {
				t.Errorf("no [%s] finding says %q; got:\n%s", fx.Rule, fx.Reason, strings.Join(all, "\n"))
			}
		})
	}
}

// Every rule is shown firing on at least one bad fixture.
func TestEveryRuleHasABadFixture(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join("testdata", "bad"))
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, e := range entries {
		covered[readFixture(t, e.Name()).Rule] = true
	}
	for _, r := range rules.All() {
		if !covered[r.Name] {
			t.Errorf("rule %s has no bad fixture showing it fire", r.Name)
		}
	}
}
