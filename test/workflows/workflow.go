// Package workflows reads GitHub Actions workflow files into a small model and checks them
// against the pipeline's rules (see checks.go). The model keeps line numbers and the comment
// after each `uses:` so that a finding points at the line a reviewer has to change.
package workflows

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Workflow is one parsed workflow file.
type Workflow struct {
	Path string
	Name string
	// Triggers are the event names under `on:` (pull_request, push, workflow_run, ...).
	Triggers []string
	// Permissions is the top-level permissions block; nil when absent.
	Permissions *Permissions
	// Concurrency is the top-level concurrency group ("" when absent).
	Concurrency string
	Env         map[string]string
	Jobs        []Job
}

// Permissions is a permissions block: either a shorthand (read-all, write-all) or a map of
// scope to access. An empty map is `permissions: {}`.
type Permissions struct {
	Line      int
	Shorthand string
	Scopes    map[string]string
}

// Writes lists the scopes granted write access (sorted), including every scope for write-all.
func (p *Permissions) Writes() []string {
	if p == nil {
		return nil
	}
	if p.Shorthand == "write-all" {
		return []string{"*"}
	}
	var w []string
	for scope, access := range p.Scopes {
		if access == "write" {
			w = append(w, scope)
		}
	}
	sort.Strings(w)
	return w
}

// Job is one job of a workflow.
type Job struct {
	ID             string
	Line           int
	Permissions    *Permissions
	TimeoutMinutes string
	Environment    string
	Concurrency    string
	Uses           string // a reusable workflow call
	Needs          []string
	Outputs        map[string]string
	// Images are the job's container and service images, by name (container, service id).
	Images map[string]string
	Env    map[string]string
	Steps  []Step
}

// Step is one step of a job.
type Step struct {
	Index           int
	Line            int
	Name            string
	ID              string
	If              string
	Uses            string
	UsesComment     string
	UsesLine        int
	With            map[string]string
	Run             string
	RunLine         int
	Env             map[string]string
	ContinueOnError string
}

// Label names a step for messages: its name, else its id, else what it uses or runs.
func (s Step) Label() string {
	switch {
	case s.Name != "":
		return s.Name
	case s.ID != "":
		return s.ID
	case s.Uses != "":
		return s.Uses
	default:
		first, _, _ := strings.Cut(strings.TrimSpace(s.Run), "\n")
		return first
	}
}

// Action returns the action a step uses without its ref ("actions/checkout"), or "".
func (s Step) Action() string {
	if s.Uses == "" || strings.HasPrefix(s.Uses, "./") || strings.HasPrefix(s.Uses, "docker://") {
		return ""
	}
	name, _, _ := strings.Cut(s.Uses, "@")
	return strings.ToLower(name)
}

// ParseFile reads and parses one workflow file.
func ParseFile(path string) (*Workflow, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read workflow: %w", err)
	}
	w, err := Parse(path, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return w, nil
}

// Parse parses workflow YAML; path is used in findings only.
func Parse(path string, data []byte) (*Workflow, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("parse yaml: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("workflow is not a YAML mapping")
	}
	root := doc.Content[0]
	w := &Workflow{Path: path, Env: map[string]string{}}
	for key, val := range pairs(root) {
		switch key.Value {
		case "name":
			w.Name = val.Value
		case "on":
			w.Triggers = triggers(val)
		case "permissions":
			p, err := permissions(val)
			if err != nil {
				return nil, err
			}
			w.Permissions = p
		case "concurrency":
			w.Concurrency = concurrency(val)
		case "env":
			w.Env = stringMap(val)
		case "jobs":
			if val.Kind != yaml.MappingNode {
				return nil, fmt.Errorf("line %d: jobs is not a mapping", val.Line)
			}
			for id, jn := range pairs(val) {
				j, err := job(id.Value, id.Line, jn)
				if err != nil {
					return nil, err
				}
				w.Jobs = append(w.Jobs, j)
			}
		}
	}
	if len(w.Jobs) == 0 {
		return nil, fmt.Errorf("workflow has no jobs")
	}
	return w, nil
}

// pairs iterates over a mapping node's key/value pairs in order.
func pairs(n *yaml.Node) func(yield func(*yaml.Node, *yaml.Node) bool) {
	return func(yield func(*yaml.Node, *yaml.Node) bool) {
		if n == nil || n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !yield(n.Content[i], n.Content[i+1]) {
				return
			}
		}
	}
}

func triggers(n *yaml.Node) []string {
	var out []string
	switch n.Kind {
	case yaml.ScalarNode:
		out = append(out, n.Value)
	case yaml.SequenceNode:
		for _, c := range n.Content {
			out = append(out, c.Value)
		}
	case yaml.MappingNode:
		for k := range pairs(n) {
			out = append(out, k.Value)
		}
	}
	return out
}

func permissions(n *yaml.Node) (*Permissions, error) {
	p := &Permissions{Line: n.Line, Scopes: map[string]string{}}
	switch n.Kind {
	case yaml.ScalarNode:
		p.Shorthand = n.Value
	case yaml.MappingNode:
		for k, v := range pairs(n) {
			p.Scopes[k.Value] = v.Value
		}
	default:
		return nil, fmt.Errorf("line %d: permissions is neither a shorthand nor a mapping", n.Line)
	}
	return p, nil
}

func concurrency(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	for k, v := range pairs(n) {
		if k.Value == "group" {
			return v.Value
		}
	}
	return ""
}

func job(id string, line int, n *yaml.Node) (Job, error) {
	j := Job{ID: id, Line: line, Env: map[string]string{}, Outputs: map[string]string{}, Images: map[string]string{}}
	if n.Kind != yaml.MappingNode {
		return j, fmt.Errorf("line %d: job %q is not a mapping", line, id)
	}
	for k, v := range pairs(n) {
		switch k.Value {
		case "permissions":
			p, err := permissions(v)
			if err != nil {
				return j, err
			}
			j.Permissions = p
		case "timeout-minutes":
			j.TimeoutMinutes = v.Value
		case "environment":
			j.Environment = v.Value
			for ek, ev := range pairs(v) {
				if ek.Value == "name" {
					j.Environment = ev.Value
				}
			}
		case "concurrency":
			j.Concurrency = concurrency(v)
		case "uses":
			j.Uses = v.Value
		case "needs":
			j.Needs = triggers(v) // a name or a list of names
		case "outputs":
			j.Outputs = stringMap(v)
		case "container":
			j.Images["container"] = image(v)
		case "services":
			for sk, sv := range pairs(v) {
				j.Images["service "+sk.Value] = image(sv)
			}
		case "env":
			j.Env = stringMap(v)
		case "steps":
			if v.Kind != yaml.SequenceNode {
				return j, fmt.Errorf("line %d: steps of job %q is not a list", v.Line, id)
			}
			for i, sn := range v.Content {
				j.Steps = append(j.Steps, step(i, sn))
			}
		}
	}
	return j, nil
}

func step(i int, n *yaml.Node) Step {
	s := Step{Index: i, Line: n.Line, With: map[string]string{}, Env: map[string]string{}}
	for k, v := range pairs(n) {
		switch k.Value {
		case "name":
			s.Name = v.Value
		case "id":
			s.ID = v.Value
		case "if":
			s.If = v.Value
		case "uses":
			s.Uses = v.Value
			s.UsesLine = v.Line
			s.UsesComment = strings.TrimSpace(strings.TrimPrefix(v.LineComment, "#"))
		case "with":
			s.With = stringMap(v)
		case "env":
			s.Env = stringMap(v)
		case "run":
			s.Run = v.Value
			s.RunLine = v.Line
		case "continue-on-error":
			s.ContinueOnError = v.Value
		}
	}
	return s
}

// stringMap flattens a mapping of scalars (with:, env:) into a map.
func stringMap(n *yaml.Node) map[string]string {
	m := map[string]string{}
	for k, v := range pairs(n) {
		m[k.Value] = v.Value
	}
	return m
}

// image is the image of a container: or services: entry (a bare string or a mapping).
func image(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	for k, v := range pairs(n) {
		if k.Value == "image" {
			return v.Value
		}
	}
	return ""
}
