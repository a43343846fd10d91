// Package mutate edits copies of the repository's .github/ files for the rules' tests: YAML
// trees of workflows and actions (find a job or a step by what it does, set, delete or insert
// keys and steps) and run: scripts (wrap or replace one command, found by the shell parser).
// The edits find their targets by meaning, never by the text of the file, so that the tests
// keep finding them when the workflows change.
package mutate

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v4"
	"mvdan.cc/sh/v3/syntax"
)

// Files is a copy of the repository's .github/ tree (and the root files the rules read).
type Files map[string][]byte

// Clone copies the files.
func (f Files) Clone() Files { return maps.Clone(f) }

// Doc is a YAML file being edited.
type Doc struct {
	Path string
	Root *yaml.Node // the document's top mapping
	doc  *yaml.Node
}

// Parse reads a YAML file for editing.
func Parse(path string, data []byte) (*Doc, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if len(n.Content) != 1 || n.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s is not a YAML mapping", path)
	}
	return &Doc{Path: path, Root: n.Content[0], doc: &n}, nil
}

// Bytes writes the document back.
func (d *Doc) Bytes() []byte {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(d.doc); err != nil {
		panic(fmt.Sprintf("encode %s: %v", d.Path, err)) // the tree was built by this package
	}
	return b.Bytes()
}

// Workflows lists the workflow files, sorted.
func (f Files) Workflows() []string {
	var out []string
	for p := range f {
		if strings.HasPrefix(p, ".github/workflows/") && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// Get returns the value of a key of a mapping, or nil.
func Get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// Str returns the scalar value of a key, or "".
func Str(m *yaml.Node, key string) string {
	if v := Get(m, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

// Set sets a key of a mapping to a value (appended when new).
func Set(m *yaml.Node, key string, value *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = value
			return
		}
	}
	m.Content = append(m.Content, Scalar(key), value)
}

// SetStr sets a key to a string.
func SetStr(m *yaml.Node, key, value string) { Set(m, key, Scalar(value)) }

// Delete removes a key; it reports whether it was there.
func Delete(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = slices.Delete(m.Content, i, i+2)
			return true
		}
	}
	return false
}

// Scalar is a scalar node written plain: a reader types it by its text ("true" is a boolean,
// "0" a number), as it would if a person had typed it. Multi-line values are literal blocks.
func Scalar(v string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: v}
	if strings.Contains(v, "\n") {
		n.Style = yaml.LiteralStyle
		n.Tag = "!!str"
	}
	return n
}

// Node parses a YAML snippet into a node.
func Node(src string) *yaml.Node {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		panic(fmt.Sprintf("snippet %q: %v", src, err))
	}
	if len(n.Content) == 0 {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	}
	return n.Content[0]
}

// Map returns the mapping at key, creating it.
func Map(m *yaml.Node, key string) *yaml.Node {
	v := Get(m, key)
	if v == nil || v.Kind != yaml.MappingNode {
		v = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		Set(m, key, v)
	}
	return v
}

// Job is a job of a workflow being edited.
type Job struct {
	ID   string
	Node *yaml.Node
}

// Jobs lists a workflow's jobs in order.
func (d *Doc) Jobs() []Job {
	var out []Job
	jobs := Get(d.Root, "jobs")
	if jobs == nil {
		return nil
	}
	for i := 0; i+1 < len(jobs.Content); i += 2 {
		out = append(out, Job{jobs.Content[i].Value, jobs.Content[i+1]})
	}
	return out
}

// Steps lists a job's (or a composite action's runs:) steps.
func Steps(job *yaml.Node) []*yaml.Node {
	if s := Get(job, "steps"); s != nil && s.Kind == yaml.SequenceNode {
		return s.Content
	}
	return nil
}

// InsertStep inserts a step at an index of a job's steps.
func InsertStep(job *yaml.Node, at int, step *yaml.Node) {
	s := Get(job, "steps")
	s.Content = slices.Insert(s.Content, at, step)
}

// RemoveStep removes a step.
func RemoveStep(job *yaml.Node, step *yaml.Node) {
	s := Get(job, "steps")
	s.Content = slices.DeleteFunc(s.Content, func(n *yaml.Node) bool { return n == step })
}

// StepIndex returns a step's index in its job.
func StepIndex(job *yaml.Node, step *yaml.Node) int {
	return slices.Index(Steps(job), step)
}

// Uses returns what a step uses without its ref, lower case.
func Uses(step *yaml.Node) string {
	u := Str(step, "uses")
	name, _, _ := strings.Cut(u, "@")
	return strings.ToLower(name)
}

// Needs returns a job's needs as a list.
func Needs(job *yaml.Node) []string {
	n := Get(job, "needs")
	switch {
	case n == nil:
		return nil
	case n.Kind == yaml.ScalarNode:
		return []string{n.Value}
	}
	var out []string
	for _, c := range n.Content {
		out = append(out, c.Value)
	}
	return out
}

// SetNeeds sets a job's needs.
func SetNeeds(job *yaml.Node, needs []string) {
	if len(needs) == 0 {
		Delete(job, "needs")
		return
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
	for _, n := range needs {
		seq.Content = append(seq.Content, Scalar(n))
	}
	Set(job, "needs", seq)
}

// Command is a simple command of a script, as the shell parser reads its literal words.
type Command struct {
	Words []string // literal words ("" for a word with expansions)
	stmt  *syntax.Stmt
	start int // byte offsets of the whole top-level statement holding it
	end   int
	cmdS  int // byte offsets of the command itself
	cmdE  int
}

// Commands lists the simple commands of a script, each with the top-level statement that
// holds it.
func Commands(script string) ([]Command, error) {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(script), "")
	if err != nil {
		return nil, err
	}
	var out []Command
	for _, st := range f.Stmts {
		syntax.Walk(st, func(n syntax.Node) bool {
			ce, ok := n.(*syntax.CallExpr)
			if !ok || len(ce.Args) == 0 {
				return true
			}
			words := make([]string, len(ce.Args))
			for i, w := range ce.Args {
				words[i] = lit(w)
			}
			out = append(out, Command{Words: words, stmt: st, start: int(st.Pos().Offset()), end: int(st.End().Offset()),
				cmdS: int(ce.Pos().Offset()), cmdE: int(ce.End().Offset())})
			return true
		})
	}
	return out, nil
}

// lit is a word's text with quotes removed; each expansion is written "$".
func lit(w *syntax.Word) string {
	var b strings.Builder
	for _, p := range w.Parts {
		switch x := p.(type) {
		case *syntax.Lit:
			b.WriteString(x.Value)
		case *syntax.SglQuoted:
			b.WriteString(x.Value)
		case *syntax.DblQuoted:
			for _, q := range x.Parts {
				if l, ok := q.(*syntax.Lit); ok {
					b.WriteString(l.Value)
				} else {
					b.WriteString("$")
				}
			}
		default:
			b.WriteString("$")
		}
	}
	return b.String()
}

// Is reports whether a command's first words are these (flags skipped after the first word;
// a flag's separate value is not known, so `kubectl -n ns apply` is found with Has).
func (c Command) Is(words ...string) bool {
	if len(c.Words) == 0 || c.Words[0] != words[0] {
		return false
	}
	i := 1
	for _, want := range words[1:] {
		for i < len(c.Words) && strings.HasPrefix(c.Words[i], "-") {
			i++
		}
		if i >= len(c.Words) || c.Words[i] != want {
			return false
		}
		i++
	}
	return true
}

// Has reports whether a command is name and holds every one of words among its arguments.
func (c Command) Has(name string, words ...string) bool {
	if len(c.Words) == 0 || c.Words[0] != name {
		return false
	}
	for _, w := range words {
		if !slices.Contains(c.Words[1:], w) {
			return false
		}
	}
	return true
}

// Statement returns the source of the top-level statement holding the command.
func (c Command) Statement(script string) string { return script[c.start:c.end] }

// Text returns the source of the command itself.
func (c Command) Text(script string) string { return script[c.cmdS:c.cmdE] }

// ReplaceStatement rewrites the top-level statement holding the command.
func (c Command) ReplaceStatement(script string, with func(stmt string) string) string {
	return script[:c.start] + with(script[c.start:c.end]) + script[c.end:]
}

// ReplaceCommand rewrites the command itself.
func (c Command) ReplaceCommand(script string, with func(cmd string) string) string {
	return script[:c.cmdS] + with(script[c.cmdS:c.cmdE]) + script[c.cmdE:]
}

// FindCommand returns the first command of a script whose first words are these.
func FindCommand(script string, words ...string) (Command, bool) {
	cmds, err := Commands(script)
	if err != nil {
		return Command{}, false
	}
	for _, c := range cmds {
		if c.Is(words...) {
			return c, true
		}
	}
	return Command{}, false
}

// SingleQuote quotes a script for bash -c '...'.
func SingleQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
