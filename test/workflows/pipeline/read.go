package pipeline

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/rhysd/actionlint"
	"go.yaml.in/yaml/v4"
)

// Repo is the .github/ tree of a repository, read.
type Repo struct {
	// Root is the repository on disk, for the files outside .github/ that a step runs or a
	// scanner reads; "" when there is none.
	Root string
	// Files holds every file under .github/ and the root files the rules read (RootFiles), by
	// slash path relative to the root.
	Files     map[string][]byte
	Workflows []*Workflow
	// Actions are the actions defined in this repository, by directory.
	Actions map[string]*Action
	// Secrets lists, for each YAML file under .github/, the stored secrets it reads.
	Secrets  map[string][]SecretRef
	Problems []Problem

	cache *Cache
}

// SecretRef is one read of a stored secret (secrets.NAME) in a YAML value.
type SecretRef struct {
	Name string
	Line int
}

// Problem is something GitHub would refuse to read.
type Problem struct {
	Path    string
	Line    int
	Message string
}

// RootFiles are files outside .github/ that change what the pipeline does and that the rules
// read: Trivy reads an ignore file and a configuration file from the working directory.
var RootFiles = []string{".trivyignore", ".trivyignore.yaml", "trivy.yaml", "trivy.yml"}

// Load reads the .github/ tree under root.
func Load(root string) (*Repo, error) {
	files := map[string][]byte{}
	fsys := os.DirFS(root)
	err := fs.WalkDir(fsys, ".github", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		files[p] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read .github: %w", err)
	}
	for _, f := range RootFiles {
		if data, err := fs.ReadFile(fsys, f); err == nil {
			files[f] = data
		}
	}
	return New(root, files), nil
}

// New reads a set of files as a repository's .github/ tree. root is used for files outside
// .github/ that are not in files (scripts a step runs); it may be "".
func New(root string, files map[string][]byte) *Repo { return NewCached(nil, root, files) }

// NewCached is New, reusing what the cache has read before (c may be nil).
func NewCached(c *Cache, root string, files map[string][]byte) *Repo {
	r := &Repo{Root: root, Files: files, Actions: map[string]*Action{}, Secrets: map[string][]SecretRef{}, cache: c}
	names := make([]string, 0, len(files))
	for p := range files {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		switch {
		case strings.HasPrefix(p, ".github/workflows/") && isYAML(p) && path.Dir(p) == ".github/workflows":
			r.readWorkflow(p, files[p])
		case strings.HasPrefix(p, ".github/") && (path.Base(p) == "action.yml" || path.Base(p) == "action.yaml"):
			r.readAction(p, files[p])
		}
		if strings.HasPrefix(p, ".github/") && isYAML(p) {
			r.Secrets[p] = c.secretRefs(files[p])
		}
	}
	return r
}

func isYAML(p string) bool { return strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml") }

// ReadFile returns a file of the repository: from Files for .github/ and the root files the
// rules read, else from disk under Root.
func (r *Repo) ReadFile(p string) ([]byte, bool) {
	p = path.Clean(p)
	if data, ok := r.Files[p]; ok {
		return data, true
	}
	if strings.HasPrefix(p, ".github/") || r.Root == "" || strings.HasPrefix(p, "../") {
		return nil, false
	}
	for _, f := range RootFiles {
		if p == f {
			return nil, false // only what Files holds: a copy of the repository may have removed it
		}
	}
	data, err := fs.ReadFile(os.DirFS(r.Root), p)
	return data, err == nil
}

// Action returns the local action a uses: value names (./.github/actions/x).
func (r *Repo) Action(uses string) (*Action, bool) {
	if !Local(uses) {
		return nil, false
	}
	a, ok := r.Actions[path.Clean(strings.TrimPrefix(uses, "./"))]
	return a, ok
}

// Workflow returns the workflow at a path.
func (r *Repo) Workflow(p string) (*Workflow, bool) {
	for _, w := range r.Workflows {
		if w.Path == p {
			return w, true
		}
	}
	return nil, false
}

func (r *Repo) problem(p string, line int, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Path: p, Line: line, Message: fmt.Sprintf(format, args...)})
}

// Cache keeps what file texts read as, for a caller that reads many copies of the same tree
// (the mutation tests read the real tree over and over with one file changed). What it holds is
// never written to once built.
type Cache struct {
	mu        sync.Mutex
	workflows map[string]parsedWorkflow
	secrets   map[string][]SecretRef
}

// NewCache returns an empty cache.
func NewCache() *Cache {
	return &Cache{workflows: map[string]parsedWorkflow{}, secrets: map[string][]SecretRef{}}
}

type parsedWorkflow struct {
	w        *Workflow
	problems []Problem
}

// readWorkflow parses a workflow with actionlint's parser and converts its tree.
func (r *Repo) readWorkflow(p string, data []byte) {
	c := r.cache.workflow(p, data)
	r.Problems = append(r.Problems, c.problems...)
	if c.w != nil {
		r.Workflows = append(r.Workflows, c.w)
	}
}

func (c *Cache) workflow(p string, data []byte) parsedWorkflow {
	if c == nil {
		return parseWorkflow(p, data)
	}
	key := p + "\x00" + string(data)
	c.mu.Lock()
	w, ok := c.workflows[key]
	c.mu.Unlock()
	if ok {
		return w
	}
	w = parseWorkflow(p, data)
	c.mu.Lock()
	c.workflows[key] = w
	c.mu.Unlock()
	return w
}

func parseWorkflow(p string, data []byte) parsedWorkflow {
	var out parsedWorkflow
	aw, errs := actionlint.Parse(data)
	for _, e := range errs {
		// actionlint reports anchors nobody uses; GitHub does not mind them.
		if strings.Contains(e.Message, "is defined but not used") {
			continue
		}
		out.problems = append(out.problems, Problem{Path: p, Line: e.Line, Message: e.Message})
	}
	if aw == nil {
		return out
	}
	lines := bytes.Split(data, []byte("\n"))
	w := &Workflow{Path: p, Name: str(aw.Name), Env: env(aw.Env), Permissions: perms(aw.Permissions), Concurrency: concurrency(aw.Concurrency)}
	if aw.Defaults != nil && aw.Defaults.Run != nil {
		w.Shell, w.WorkingDir = str(aw.Defaults.Run.Shell), str(aw.Defaults.Run.WorkingDirectory)
	}
	for _, e := range aw.On {
		w.Triggers = append(w.Triggers, trigger(e))
	}
	ids := make([]string, 0, len(aw.Jobs))
	for id := range aw.Jobs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return line(aw.Jobs[ids[i]].Pos) < line(aw.Jobs[ids[j]].Pos) })
	for _, id := range ids {
		w.Jobs = append(w.Jobs, job(aw.Jobs[id], lines))
	}
	out.w = w
	return out
}

func str(s *actionlint.String) string {
	if s == nil {
		return ""
	}
	return s.Value
}

func line(p *actionlint.Pos) int {
	if p == nil {
		return 0
	}
	return p.Line
}

func boolStr(b *actionlint.Bool) string {
	switch {
	case b == nil:
		return ""
	case b.Expression != nil:
		return b.Expression.Value
	case b.Value:
		return "true"
	}
	return "false"
}

func env(e *actionlint.Env) Env {
	out := Env{Vars: map[string]string{}}
	if e == nil {
		return out
	}
	if e.Expression != nil {
		out.Expr = e.Expression.Value
		out.Line = line(e.Expression.Pos)
	}
	for _, v := range e.Vars {
		out.Vars[v.Name.Value] = str(v.Value)
		if out.Line == 0 || line(v.Name.Pos) < out.Line {
			out.Line = line(v.Name.Pos)
		}
	}
	return out
}

func perms(p *actionlint.Permissions) *Permissions {
	if p == nil {
		return nil
	}
	out := &Permissions{Line: line(p.Pos), All: str(p.All), Scopes: map[string]string{}}
	for _, s := range p.Scopes {
		out.Scopes[strings.ToLower(s.Name.Value)] = strings.ToLower(str(s.Value))
	}
	return out
}

func concurrency(c *actionlint.Concurrency) *Concurrency {
	if c == nil {
		return nil
	}
	return &Concurrency{Group: str(c.Group), CancelInProgress: boolStr(c.CancelInProgress)}
}

func strs(ss []*actionlint.String) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, s.Value)
	}
	return out
}

func filter(f *actionlint.WebhookEventFilter) []string {
	if f == nil {
		return nil
	}
	return strs(f.Values)
}

func trigger(e actionlint.Event) *Trigger {
	t := &Trigger{Event: e.EventName()}
	switch x := e.(type) {
	case *actionlint.WebhookEvent:
		t.Line = line(x.Pos)
		t.Branches, t.BranchesIgnore = filter(x.Branches), filter(x.BranchesIgnore)
		t.Tags, t.TagsIgnore = filter(x.Tags), filter(x.TagsIgnore)
		t.Paths, t.PathsIgnore = filter(x.Paths), filter(x.PathsIgnore)
		t.Types, t.Workflows = strs(x.Types), strs(x.Workflows)
		t.HasBranches = x.Branches != nil || x.BranchesIgnore != nil
		t.HasTags = x.Tags != nil || x.TagsIgnore != nil
	case *actionlint.ScheduledEvent:
		t.Line = line(x.Pos)
	case *actionlint.WorkflowDispatchEvent:
		t.Line = line(x.Pos)
	case *actionlint.RepositoryDispatchEvent:
		t.Line = line(x.Pos)
	case *actionlint.WorkflowCallEvent:
		t.Line = line(x.Pos)
	}
	return t
}

// scriptLine is the line a run: script starts on: the next line for a block scalar.
func scriptLine(lines [][]byte, runLine int) int {
	if runLine < 1 || runLine > len(lines) {
		return runLine
	}
	l := strings.TrimSpace(string(lines[runLine-1]))
	if i := strings.Index(l, "#"); i >= 0 {
		l = strings.TrimSpace(l[:i])
	}
	if strings.HasSuffix(l, "|") || strings.HasSuffix(l, ">") || strings.HasSuffix(l, "|-") || strings.HasSuffix(l, ">-") || strings.HasSuffix(l, "|+") || strings.HasSuffix(l, ">+") {
		return runLine + 1
	}
	return runLine
}

// comment returns the comment after the value that starts at pos on its line.
func comment(lines [][]byte, p *actionlint.Pos) string {
	if p == nil || p.Line < 1 || p.Line > len(lines) {
		return ""
	}
	return commentAfter(string(lines[p.Line-1]), p.Col)
}

func commentAfter(l string, col int) string {
	if col < 1 || col > len(l) {
		col = 1
	}
	rest := l[col-1:]
	for i := 0; i < len(rest); i++ {
		if rest[i] == '#' && (i == 0 || rest[i-1] == ' ' || rest[i-1] == '\t') {
			return strings.TrimSpace(rest[i+1:])
		}
	}
	return ""
}

func rawScalars(v actionlint.RawYAMLValue) []string {
	switch x := v.(type) {
	case *actionlint.RawYAMLString:
		return []string{x.Value}
	case *actionlint.RawYAMLArray:
		var out []string
		for _, e := range x.Elems {
			out = append(out, rawScalars(e)...)
		}
		return out
	}
	return nil
}

func job(aj *actionlint.Job, lines [][]byte) *Job {
	j := &Job{
		ID: str(aj.ID), Line: line(aj.Pos), Name: str(aj.Name), If: str(aj.If), Needs: strs(aj.Needs),
		Permissions: perms(aj.Permissions), Concurrency: concurrency(aj.Concurrency),
		ContinueOnError: boolStr(aj.ContinueOnError), Env: env(aj.Env),
		Outputs: map[string]string{}, Matrix: map[string][]string{}, MatrixExprs: map[string]string{}, Images: map[string]string{},
	}
	if aj.If != nil {
		j.IfLine = line(aj.If.Pos)
	}
	if aj.RunsOn != nil {
		j.RunsOn = strs(aj.RunsOn.Labels)
		j.RunsOnExpr = str(aj.RunsOn.LabelsExpr)
		j.RunnerGroup = str(aj.RunsOn.Group)
	}
	if aj.Environment != nil {
		j.Environment = str(aj.Environment.Name)
		j.EnvLine = line(aj.Environment.Pos)
	}
	if aj.TimeoutMinutes != nil {
		if aj.TimeoutMinutes.Expression != nil {
			j.Timeout = aj.TimeoutMinutes.Expression.Value
		} else {
			j.Timeout = strconv.FormatFloat(aj.TimeoutMinutes.Value, 'f', -1, 64)
		}
	}
	if aj.Defaults != nil && aj.Defaults.Run != nil {
		j.Shell, j.WorkingDir = str(aj.Defaults.Run.Shell), str(aj.Defaults.Run.WorkingDirectory)
	}
	for _, o := range aj.Outputs {
		j.Outputs[o.Name.Value] = str(o.Value)
	}
	if aj.Strategy != nil && aj.Strategy.Matrix != nil {
		m := aj.Strategy.Matrix
		j.MatrixExpr = m.Expression != nil
		for key, row := range m.Rows {
			if row.Name != nil {
				key = row.Name.Value
			}
			if row.Expression != nil {
				j.MatrixExpr = true
				j.MatrixExprs[key] = row.Expression.Value
			}
			for _, v := range row.Values {
				j.Matrix[key] = append(j.Matrix[key], rawScalars(v)...)
			}
		}
		if m.Include != nil {
			if m.Include.Expression != nil {
				j.MatrixExpr = true
			}
			for _, c := range m.Include.Combinations {
				if c.Expression != nil {
					j.MatrixExpr = true
				}
				for key, a := range c.Assigns {
					if a.Key != nil {
						key = a.Key.Value
					}
					j.Matrix[key] = append(j.Matrix[key], rawScalars(a.Value)...)
				}
			}
		}
	}
	if aj.Container != nil {
		j.Images["container"] = str(aj.Container.Image)
	}
	if aj.Services != nil {
		for id, s := range aj.Services.Value {
			if s.Container != nil {
				j.Images["service "+id] = str(s.Container.Image)
			}
		}
	}
	if wc := aj.WorkflowCall; wc != nil {
		c := &Call{Uses: str(wc.Uses), With: map[string]string{}, Secrets: map[string]string{}, InheritSecrets: wc.InheritSecrets}
		if wc.Uses != nil {
			c.Line = line(wc.Uses.Pos)
			c.Comment = comment(lines, wc.Uses.Pos)
		}
		for _, in := range wc.Inputs {
			c.With[in.Name.Value] = str(in.Value)
		}
		for _, s := range wc.Secrets {
			c.Secrets[s.Name.Value] = str(s.Value)
		}
		j.Call = c
	}
	for i, as := range aj.Steps {
		j.Steps = append(j.Steps, step(i, as, lines))
	}
	return j
}

func step(i int, as *actionlint.Step, lines [][]byte) *Step {
	s := &Step{Index: i, Line: line(as.Pos), Name: str(as.Name), ID: str(as.ID), If: str(as.If),
		Env: env(as.Env), ContinueOnError: boolStr(as.ContinueOnError), With: map[string]string{}}
	switch x := as.Exec.(type) {
	case *actionlint.ExecRun:
		s.Run = str(x.Run)
		if x.Run != nil {
			s.RunLine = line(x.Run.Pos)
			s.ScriptLine = scriptLine(lines, s.RunLine)
		}
		s.Shell, s.WorkingDir = str(x.Shell), str(x.WorkingDirectory)
	case *actionlint.ExecAction:
		s.Uses = str(x.Uses)
		if x.Uses != nil {
			s.UsesLine = line(x.Uses.Pos)
			s.UsesComment = comment(lines, x.Uses.Pos)
		}
		for _, in := range x.Inputs {
			s.With[in.Name.Value] = str(in.Value)
		}
		if x.Entrypoint != nil {
			s.With["entrypoint"] = x.Entrypoint.Value
		}
		if x.Args != nil {
			s.With["args"] = x.Args.Value
		}
	}
	return s
}

// readAction reads an action.yml of the repository, resolving anchors and refusing what
// GitHub refuses (merge keys, duplicate keys).
func (r *Repo) readAction(p string, data []byte) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		r.problem(p, 0, "could not parse as YAML: %v", err)
		return
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		r.problem(p, 1, "action.yml is not a mapping")
		return
	}
	root := resolve(doc.Content[0], map[*yaml.Node]bool{})
	if bad := r.checkKeys(p, root); bad {
		return
	}
	lines := strings.Split(string(data), "\n")
	a := &Action{Path: p, Dir: path.Dir(p)}
	for k, v := range pairs(root) {
		switch k.Value {
		case "name":
			a.Name = v.Value
		case "runs":
			for rk, rv := range pairs(v) {
				switch rk.Value {
				case "using":
					a.Using = rv.Value
				case "image":
					a.Image = rv.Value
				case "steps":
					for i, sn := range rv.Content {
						a.Steps = append(a.Steps, actionStep(i, sn, a.Dir, lines))
					}
				}
			}
		}
	}
	r.Actions[a.Dir] = a
}

// resolve replaces aliases by the nodes they name, as GitHub expands them.
func resolve(n *yaml.Node, seen map[*yaml.Node]bool) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if seen[n] {
		return n
	}
	seen[n] = true
	for i, c := range n.Content {
		n.Content[i] = resolve(c, seen)
	}
	delete(seen, n)
	return n
}

func (r *Repo) checkKeys(p string, n *yaml.Node) bool {
	bad := false
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if depth > 64 {
			return
		}
		if n.Kind == yaml.MappingNode {
			seen := map[string]bool{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				if k.Value == "<<" || k.Tag == "!!merge" {
					r.problem(p, k.Line, "GitHub Actions does not support YAML merge key \"<<\"")
					bad = true
				}
				if seen[k.Value] {
					r.problem(p, k.Line, "key %q is duplicated", k.Value)
					bad = true
				}
				seen[k.Value] = true
			}
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return bad
}

func pairs(n *yaml.Node) func(func(*yaml.Node, *yaml.Node) bool) {
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

func scalarMap(n *yaml.Node) map[string]string {
	m := map[string]string{}
	for k, v := range pairs(n) {
		m[k.Value] = v.Value
	}
	return m
}

func actionStep(i int, n *yaml.Node, dir string, lines []string) *Step {
	s := &Step{Index: i, Line: n.Line, With: map[string]string{}, Env: Env{Vars: map[string]string{}}, In: dir}
	for k, v := range pairs(n) {
		switch k.Value {
		case "name":
			s.Name = v.Value
		case "id":
			s.ID = v.Value
		case "if":
			s.If = v.Value
		case "uses":
			s.Uses, s.UsesLine = v.Value, v.Line
			if v.Line >= 1 && v.Line <= len(lines) {
				s.UsesComment = commentAfter(lines[v.Line-1], v.Column)
			}
		case "with":
			s.With = scalarMap(v)
		case "run":
			s.Run, s.RunLine = v.Value, v.Line
			s.ScriptLine = s.RunLine
			if v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
				s.ScriptLine++
			}
		case "shell":
			s.Shell = v.Value
		case "working-directory":
			s.WorkingDir = v.Value
		case "env":
			s.Env = Env{Vars: scalarMap(v), Line: v.Line}
			if v.Kind == yaml.ScalarNode {
				s.Env.Expr = v.Value
			}
		case "continue-on-error":
			s.ContinueOnError = v.Value
		}
	}
	return s
}

// Flow returns the steps of a job in the order they run, with the steps of the repository's
// own composite actions in place of the step that uses them.
func (r *Repo) Flow(j *Job) []*Step {
	var out []*Step
	var add func(steps []*Step, parent *Step, depth int)
	add = func(steps []*Step, parent *Step, depth int) {
		for _, s := range steps {
			c := *s
			c.Parent = parent
			if a, ok := r.Action(s.Uses); ok && a.Using == "composite" && depth < 8 {
				add(a.Steps, &c, depth+1)
				continue
			}
			out = append(out, &c)
		}
	}
	add(j.Steps, nil, 0)
	for i, s := range out {
		s.Index = i
	}
	return out
}

// Top is the job step a (possibly inlined) step stands for: the step that uses its composite
// action, or itself.
func (s *Step) Top() *Step {
	for s.Parent != nil {
		s = s.Parent
	}
	return s
}

var secretRef = regexp.MustCompile(`secrets\s*(\.\s*([A-Za-z_][A-Za-z0-9_-]*)|\[)`)

func (c *Cache) secretRefs(data []byte) []SecretRef {
	if c == nil {
		return readSecretRefs(data)
	}
	c.mu.Lock()
	refs, ok := c.secrets[string(data)]
	c.mu.Unlock()
	if ok {
		return refs
	}
	refs = readSecretRefs(data)
	c.mu.Lock()
	c.secrets[string(data)] = refs
	c.mu.Unlock()
	return refs
}

// readSecretRefs lists the secrets a YAML file reads, in every value (anchors resolved),
// GITHUB_TOKEN aside: it is the job's own token.
func readSecretRefs(data []byte) []SecretRef {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil
	}
	var out []SecretRef
	seen := map[*yaml.Node]bool{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		if seen[n] {
			return
		}
		seen[n] = true
		if n.Kind == yaml.ScalarNode {
			for _, m := range secretRef.FindAllStringSubmatch(n.Value, -1) {
				name := m[2]
				if m[1] == "[" {
					name = "secrets[...]"
				}
				if strings.EqualFold(name, "GITHUB_TOKEN") {
					continue
				}
				out = append(out, SecretRef{name, n.Line})
			}
		}
		for _, ch := range n.Content {
			walk(ch)
		}
	}
	walk(&doc)
	return out
}
