package rules

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/platform-template/template-api/test/workflows/cond"
	"github.com/platform-template/template-api/test/workflows/pipeline"
	"github.com/platform-template/template-api/test/workflows/shell"
)

// Context holds a repository under check and what the rules work out about it, computed once.
type Context struct {
	Repo *pipeline.Repo
	Cfg  Config

	flows   map[*pipeline.Job][]*pipeline.Step
	scripts map[*pipeline.Step]scriptResult
	truths  map[string]map[string]cond.Truth
	conds   map[string]*cond.Condition
}

type scriptResult struct {
	s   *shell.Script
	err error
}

func newContext(repo *pipeline.Repo, cfg Config) *Context {
	return &Context{Repo: repo, Cfg: cfg, flows: map[*pipeline.Job][]*pipeline.Step{},
		scripts: map[*pipeline.Step]scriptResult{}, truths: map[string]map[string]cond.Truth{}, conds: map[string]*cond.Condition{}}
}

func finding(rule string, path string, line int, job, format string, args ...any) Finding {
	return Finding{Rule: rule, Path: path, Line: line, Job: job, Message: fmt.Sprintf(format, args...)}
}

// stepPath is the file a step is written in: its composite action's, or the workflow's.
func (c *Context) stepPath(w *pipeline.Workflow, s *pipeline.Step) string {
	if s.In != "" {
		if a, ok := c.Repo.Actions[s.In]; ok {
			return a.Path
		}
	}
	return w.Path
}

// flow is a job's steps in running order, composite actions of the repository inlined.
func (c *Context) flow(j *pipeline.Job) []*pipeline.Step {
	if f, ok := c.flows[j]; ok {
		return f
	}
	f := c.Repo.Flow(j)
	c.flows[j] = f
	return f
}

// env is what a step's script sees: env: of the workflow, the job, the composite actions it
// belongs to and the step, later ones winning.
func (c *Context) env(w *pipeline.Workflow, j *pipeline.Job, s *pipeline.Step) map[string]string {
	out := map[string]string{}
	maps.Copy(out, w.Env.Vars)
	maps.Copy(out, j.Env.Vars)
	var chain []*pipeline.Step
	for p := s.Parent; p != nil; p = p.Parent {
		chain = append(chain, p)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		maps.Copy(out, chain[i].Env.Vars)
	}
	maps.Copy(out, s.Env.Vars)
	return out
}

// shellOf is the shell a run step runs in.
func shellOf(w *pipeline.Workflow, j *pipeline.Job, s *pipeline.Step) string {
	switch {
	case s.Shell != "":
		return s.Shell
	case s.In != "":
		return "" // a composite step must name its shell; actionlint says so
	case j.Shell != "":
		return j.Shell
	}
	return w.Shell
}

// script parses a run step.
func (c *Context) script(w *pipeline.Workflow, j *pipeline.Job, s *pipeline.Step) (*shell.Script, error) {
	if r, ok := c.scripts[s]; ok {
		return r.s, r.err
	}
	sc, err := shell.Parse(s.Run, shell.Options{Shell: shellOf(w, j, s), Env: c.env(w, j, s), ReadFile: c.Repo.ReadFile})
	c.scripts[s] = scriptResult{sc, err}
	return sc, err
}

// command is a command of a job with the step that runs it.
type command struct {
	step   *pipeline.Step
	script *shell.Script
	cmd    *shell.Command
}

// atStep returns how a check reports rule broken at step s of job j (at its uses: line): the
// finding names the step, then says what format says.
func (c *Context) atStep(out *[]Finding, rule string, w *pipeline.Workflow, j *pipeline.Job, s *pipeline.Step) func(format string, args ...any) {
	return func(format string, args ...any) {
		*out = append(*out, finding(rule, c.stepPath(w, s), s.UsesLine, j.ID, "step %q "+format, append([]any{s.Label()}, args...)...))
	}
}

// atCommand returns how a check reports rule broken by command cm of job j (at its line of
// the script): the finding names the step and, with quote, the command itself.
func (c *Context) atCommand(out *[]Finding, rule string, w *pipeline.Workflow, j *pipeline.Job, cm command, quote bool) func(format string, args ...any) {
	return func(format string, args ...any) {
		head, lead := "step %q ", []any{cm.step.Label()}
		if quote {
			head, lead = "step %q: `%s` ", append(lead, cm.cmd.Text)
		}
		*out = append(*out, finding(rule, c.stepPath(w, cm.step), cm.step.ScriptLine+cm.cmd.Line-1, j.ID, head+format, append(lead, args...)...))
	}
}

// commands lists every command a job's run steps can run.
func (c *Context) commands(w *pipeline.Workflow, j *pipeline.Job) []command {
	var out []command
	for _, s := range c.flow(j) {
		sc := c.runScript(w, j, s)
		if sc == nil {
			continue
		}
		for _, cmd := range sc.Commands {
			out = append(out, command{s, sc, cmd})
		}
	}
	return out
}

// eachJob calls f for every job of every workflow, in workflow order.
func (c *Context) eachJob(f func(w *pipeline.Workflow, j *pipeline.Job)) {
	for _, w := range c.Repo.Workflows {
		for _, j := range w.Jobs {
			f(w, j)
		}
	}
}

// privilegedJobs calls f for every job that holds power worth stealing (privileged), in
// workflow order.
func (c *Context) privilegedJobs(f func(w *pipeline.Workflow, j *pipeline.Job)) {
	c.eachJob(func(w *pipeline.Workflow, j *pipeline.Job) {
		if privileged(w, j) {
			f(w, j)
		}
	})
}

// runScript is the script of a run step, read; nil for a step that runs none or one whose script
// cannot be read (rule shell-readable reports those of privileged jobs).
func (c *Context) runScript(w *pipeline.Workflow, j *pipeline.Job, s *pipeline.Step) *shell.Script {
	if s.Run == "" {
		return nil
	}
	sc, err := c.script(w, j, s)
	if err != nil {
		return nil
	}
	return sc
}

func (c *Context) cond(src string) *cond.Condition {
	if k, ok := c.conds[src]; ok {
		return k
	}
	k, err := cond.Parse(src)
	if err != nil {
		k = nil // workflow-syntax reports it; the rules read it as unknown
	}
	c.conds[src] = k
	return k
}

// eval evaluates a condition; one that does not parse is unknown.
func (c *Context) eval(src string, env cond.Env) cond.Truth {
	k := c.cond(src)
	if k == nil {
		return cond.Unknown
	}
	return k.Eval(env)
}

// scenarios lists the situations a workflow's triggers admit. An event the standard scenarios
// do not cover (issue_comment, release, repository_dispatch, merge_group...) is one more
// scenario, on the default branch and not trusted: someone else chose to start the run.
func (c *Context) scenarios(w *pipeline.Workflow) []cond.Scenario {
	var out []cond.Scenario
	std := cond.Scenarios()
	for _, sc := range std {
		for _, t := range w.Triggers {
			if admits(t, sc) {
				out = append(out, sc)
				break
			}
		}
	}
	for _, t := range w.Triggers {
		if t.Event == "workflow_call" || slices.ContainsFunc(std, func(sc cond.Scenario) bool { return sc.Event == t.Event }) {
			continue
		}
		out = append(out, cond.Scenario{Name: t.Event + " event", Event: t.Event, Ref: "refs/heads/main"})
	}
	return out
}

// admits reports whether a trigger starts the workflow in a scenario.
func admits(t *pipeline.Trigger, sc cond.Scenario) bool {
	switch t.Event {
	case "workflow_call":
		return true // its callers decide
	case sc.Event:
	default:
		return false
	}
	switch t.Event {
	case "push":
		if name, ok := strings.CutPrefix(sc.Ref, "refs/heads/"); ok {
			if t.HasTags && !t.HasBranches {
				return false
			}
			if !sc.Trusted {
				return admitsOther(name, otherBranches, t.Branches, t.BranchesIgnore, trustedBranch)
			}
			return filtered(name, t.Branches, t.BranchesIgnore)
		}
		if name, ok := strings.CutPrefix(sc.Ref, "refs/tags/"); ok {
			if t.HasBranches && !t.HasTags {
				return false
			}
			if !sc.Trusted {
				return admitsOther(name, otherTags, t.Tags, t.TagsIgnore, trustedTag)
			}
			return filtered(name, t.Tags, t.TagsIgnore)
		}
	case "pull_request", "pull_request_target":
		if len(t.Types) > 0 && !slices.ContainsFunc(t.Types, func(ty string) bool {
			return ty == "opened" || ty == "synchronize" || ty == "reopened"
		}) {
			return false
		}
		return filtered(sc.BaseRef, t.Branches, t.BranchesIgnore)
	case "workflow_run":
		if len(t.Types) > 0 && !slices.Contains(t.Types, "completed") {
			return false
		}
		if sc.RunBranch != "main" {
			return admitsOther(sc.RunBranch, otherBranches, t.Branches, t.BranchesIgnore, trustedBranch)
		}
		return filtered(sc.RunBranch, t.Branches, t.BranchesIgnore)
	}
	return true
}

// A scenario's untrusted branch ("feature") or tag ("wip") stands for every branch but main and
// every tag that is not a release: a filter admits it when it admits any of these names, or
// names in a positive pattern anything but main or a release (`release/**`, `v*`).
var (
	otherBranches = []string{"feature", "dev", "feature/x", "release/1.0", "hotfix/1", "main-x", "mainline", "x/main"}
	otherTags     = []string{"wip", "v1", "v1.2", "v-wip", "1.2.3", "latest", "release"}
)

func trustedBranch(pattern string) bool { return pattern == "main" }

func trustedTag(pattern string) bool {
	return pattern == "v*.*.*" || pattern == "v[0-9]+.[0-9]+.[0-9]+"
}

// admitsOther reports whether a branch or tag filter admits a name that is not trusted.
func admitsOther(name string, others, include, ignore []string, trusted func(pattern string) bool) bool {
	for _, p := range include {
		if !strings.HasPrefix(p, "!") && !trusted(p) {
			return true
		}
	}
	for _, n := range append([]string{name}, others...) {
		if filtered(n, include, ignore) {
			return true
		}
	}
	return false
}

// filtered applies a branches/branches-ignore (or tags) filter: with a positive list, the last
// matching pattern decides (! negates).
func filtered(name string, include, ignore []string) bool {
	if len(include) > 0 {
		in := false
		for _, p := range include {
			neg := strings.HasPrefix(p, "!")
			if globMatch(strings.TrimPrefix(p, "!"), name) {
				in = !neg
			}
		}
		return in
	}
	for _, p := range ignore {
		if globMatch(p, name) {
			return false
		}
	}
	return true
}

// globMatch matches GitHub's filter patterns: * (not /), ** (anything), ?, +, [...].
func globMatch(pattern, name string) bool {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch ch := pattern[i]; ch {
		case '*':
			if i+1 < len(pattern) && pattern[i+1] == '*' {
				b.WriteString(".*")
				i++
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString(".")
		case '+':
			b.WriteString("+")
		case '[':
			j := strings.IndexByte(pattern[i:], ']')
			if j < 0 {
				b.WriteString(`\[`)
				continue
			}
			b.WriteString(pattern[i : i+j+1])
			i += j
		default:
			b.WriteString(regexp.QuoteMeta(string(ch)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	return err == nil && re.MatchString(name)
}

type possible struct{ success, failure, skipped bool }

func truthOf(yes, no bool) cond.Truth {
	switch {
	case yes && !no:
		return cond.True
	case !yes:
		return cond.False
	}
	return cond.Unknown
}

// jobTruth says, for each job of a workflow, whether it runs in a scenario (true, false or
// unknown), when every job succeeds except failing (if it runs).
func (c *Context) jobTruth(w *pipeline.Workflow, sc cond.Scenario, failing string) map[string]cond.Truth {
	key := w.Path + "\x00" + sc.Name + "\x00" + failing
	if t, ok := c.truths[key]; ok {
		return t
	}
	byID := map[string]*pipeline.Job{}
	for _, j := range w.Jobs {
		byID[j.ID] = j
	}
	res := map[string]possible{}
	out := map[string]cond.Truth{}
	var visit func(j *pipeline.Job, depth int) possible
	visit = func(j *pipeline.Job, depth int) possible {
		if r, ok := res[j.ID]; ok {
			return r
		}
		if depth > len(w.Jobs) {
			return possible{skipped: true} // a cycle: GitHub refuses it, actionlint says so
		}
		success, failure := cond.True, cond.False
		for _, n := range j.Needs {
			nj, ok := byID[n]
			if !ok {
				continue
			}
			r := visit(nj, depth+1)
			success = cond.And(success, truthOf(r.success, r.failure || r.skipped))
		}
		for _, a := range ancestors(j, byID) {
			r := visit(a, depth+1)
			failure = cond.Or(failure, truthOf(r.failure, r.success || r.skipped))
		}
		t := c.eval(j.If, cond.Env{Values: sc.Values(), Status: cond.Status{Success: success, Failure: failure, Cancelled: cond.False}})
		out[j.ID] = t
		var r possible
		ran := possible{success: j.ID != failing, failure: j.ID == failing}
		switch t {
		case cond.True:
			r = ran
		case cond.False:
			r = possible{skipped: true}
		default:
			r = ran
			r.skipped = true
		}
		res[j.ID] = r
		return r
	}
	for _, j := range w.Jobs {
		visit(j, 0)
	}
	c.truths[key] = out
	return out
}

func ancestors(j *pipeline.Job, byID map[string]*pipeline.Job) []*pipeline.Job {
	seen := map[string]bool{}
	var out []*pipeline.Job
	var walk func(j *pipeline.Job)
	walk = func(j *pipeline.Job) {
		for _, n := range j.Needs {
			if seen[n] {
				continue
			}
			seen[n] = true
			if nj, ok := byID[n]; ok {
				out = append(out, nj)
				walk(nj)
			}
		}
	}
	walk(j)
	return out
}

// needsTransitively reports whether job a waits for job b.
func needsTransitively(w *pipeline.Workflow, a *pipeline.Job, b string) bool {
	byID := map[string]*pipeline.Job{}
	for _, j := range w.Jobs {
		byID[j.ID] = j
	}
	return slices.ContainsFunc(ancestors(a, byID), func(x *pipeline.Job) bool { return x.ID == b })
}

// mayRun lists the scenarios in which a job may run.
func (c *Context) mayRun(w *pipeline.Workflow, j *pipeline.Job) []cond.Scenario {
	var out []cond.Scenario
	for _, sc := range c.scenarios(w) {
		if c.jobTruth(w, sc, "")[j.ID] != cond.False {
			out = append(out, sc)
		}
	}
	return out
}

// stepTruth evaluates whether a step runs: its condition and those of the composite steps
// it is part of, in a scenario, with a job status and known step results.
func (c *Context) stepTruth(s *pipeline.Step, sc cond.Scenario, status cond.Status, steps map[string]string) cond.Truth {
	values := sc.Values()
	maps.Copy(values, steps)
	env := cond.Env{Values: values, Status: status}
	t := c.eval(s.If, env)
	for p := s.Parent; p != nil; p = p.Parent {
		t = cond.And(t, c.eval(p.If, env))
	}
	return t
}

var failedStatus = cond.Status{Success: cond.False, Failure: cond.True, Cancelled: cond.False}

// stepGates says whether step gate stops step action: in every scenario where the action may
// run, the gate runs; the gate fails the job when it fails (no continue-on-error); and after
// it fails, the action does not run. The reason says what breaks it.
func (c *Context) stepGates(w *pipeline.Workflow, j *pipeline.Job, gate, action *pipeline.Step) (bool, string) {
	if gate.Index >= action.Index {
		return false, fmt.Sprintf("step %q runs after step %q", gate.Label(), action.Label())
	}
	for s := gate; s != nil; s = s.Parent {
		if coe := s.ContinueOnError; coe != "" && coe != "false" {
			return false, fmt.Sprintf("step %q has continue-on-error: %s, so its failure does not stop the job", s.Label(), coe)
		}
	}
	failedValues := map[string]string{}
	if id := gate.Top().ID; id != "" {
		failedValues["steps."+strings.ToLower(id)+".outcome"] = "failure"
		failedValues["steps."+strings.ToLower(id)+".conclusion"] = "failure"
	}
	for _, sc := range c.scenarios(w) {
		if c.jobTruth(w, sc, "")[j.ID] == cond.False {
			continue
		}
		if c.stepTruth(action, sc, cond.Normal, nil) == cond.False {
			continue
		}
		if t := c.stepTruth(gate, sc, cond.Normal, nil); t != cond.True {
			return false, fmt.Sprintf("step %q does not always run where step %q does (on %s its if: %q is %s)", gate.Label(), action.Label(), sc.Name, condText(gate), t)
		}
		if t := c.stepTruth(action, sc, failedStatus, failedValues); t != cond.False {
			return false, fmt.Sprintf("step %q still runs after step %q fails (if: %q)", action.Label(), gate.Label(), condText(action))
		}
	}
	return true, ""
}

func condText(s *pipeline.Step) string {
	var parts []string
	for p := s; p != nil; p = p.Parent {
		if p.If != "" {
			parts = append(parts, p.If)
		}
	}
	return strings.Join(parts, " && ")
}

// jobGates says whether job gate stops job action: the action waits for the gate, the gate runs
// wherever the action may run, and the action does not run when the gate fails.
func (c *Context) jobGates(w *pipeline.Workflow, gate, action *pipeline.Job) (bool, string) {
	if coe := gate.ContinueOnError; coe != "" && coe != "false" {
		return false, fmt.Sprintf("job %s has continue-on-error: %s", gate.ID, coe)
	}
	for _, sc := range c.scenarios(w) {
		normal := c.jobTruth(w, sc, "")
		if normal[action.ID] == cond.False {
			continue
		}
		if normal[gate.ID] != cond.True {
			return false, fmt.Sprintf("job %s does not always run where job %s does (on %s)", gate.ID, action.ID, sc.Name)
		}
		if t := c.jobTruth(w, sc, gate.ID)[action.ID]; t != cond.False {
			return false, fmt.Sprintf("job %s still runs when job %s fails (on %s, if: %q)", action.ID, gate.ID, sc.Name, action.If)
		}
	}
	return true, ""
}

// hasWrite reports whether a job's token may write a scope, reading the job's permissions or,
// without them, the workflow's.
func hasWrite(w *pipeline.Workflow, j *pipeline.Job, scope string) bool {
	p := j.Permissions
	if p == nil {
		p = w.Permissions
	}
	if p == nil {
		return true // GitHub's default token
	}
	return p.All == "write-all" || p.Scopes[scope] == "write"
}

// envExpr replaces ${{ env.NAME }} in a with: value by the value of NAME (workflow, job and
// step env), and canonicalises the other expressions.
func (c *Context) withValue(w *pipeline.Workflow, j *pipeline.Job, s *pipeline.Step, v string) string {
	env := c.env(w, j, s)
	return shell.Canonical(envRef.ReplaceAllStringFunc(v, func(m string) string {
		name := envRef.FindStringSubmatch(m)[1]
		if val, ok := env[name]; ok {
			return val
		}
		return m
	}))
}

var envRef = regexp.MustCompile(`\$\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)
