package rules

import (
	"regexp"
	"slices"
	"strings"

	"github.com/platform-template/template-api/test/workflows/cond"
	"github.com/platform-template/template-api/test/workflows/pipeline"
	"github.com/platform-template/template-api/test/workflows/shell"
)

// The checks family: CI cannot switch its own checks off. The workflows branch protection
// requires run every job on every pull request to main, each make target's failure fails
// its job, and together they run `make lint` and every piece of `make test`.

var makeBadFlags = []string{"-i", "--ignore-errors", "-n", "--just-print", "--dry-run", "--recon", "-q", "--question", "-t", "--touch", "-W", "--what-if", "--new-file", "--assume-new"}

var fromJSONNeeds = regexp.MustCompile(`^\$\{\{\s*fromJSON\(\s*needs\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)\s*\)\s*\}\}$`)
var stepOutput = regexp.MustCompile(`^\$\{\{\s*steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)\s*\}\}$`)

func checkRequiredChecks(c *Context) []Finding {
	const name = "required-checks"
	var out []Finding
	covered := map[string]bool{}
	matrixFromMake := false
	for _, p := range c.Cfg.RequiredWorkflows {
		w, ok := c.Repo.Workflow(p)
		if !ok {
			out = append(out, finding(name, p, 0, "", "the required workflow is missing: branch protection would wait for checks that never come"))
			continue
		}
		var prs []cond.Scenario
		for _, sc := range c.scenarios(w) {
			if sc.Event == "pull_request" {
				prs = append(prs, sc)
			}
		}
		for _, t := range w.Triggers {
			if t.Event != "pull_request" {
				continue
			}
			if len(t.Paths) > 0 || len(t.PathsIgnore) > 0 {
				out = append(out, finding(name, w.Path, t.Line, "", "runs only for pull requests that touch some paths (paths: %v, paths-ignore: %v): a change elsewhere (its own workflow included) merges unchecked", t.Paths, t.PathsIgnore))
			}
		}
		if len(prs) < 2 {
			out = append(out, finding(name, w.Path, 1, "", "does not run for every pull request to main (its on: pull_request is missing or filtered by branches or types)"))
		}
		for _, j := range w.Jobs {
			if coe := j.ContinueOnError; coe != "" && coe != "false" {
				out = append(out, finding(name, w.Path, j.Line, j.ID, "has continue-on-error: %s, so its failure does not fail the check", coe))
			}
			for _, sc := range prs {
				if t := c.jobTruth(w, sc, "")[j.ID]; t != cond.True {
					out = append(out, finding(name, w.Path, j.Line, j.ID, "may be skipped on a %s (if: %q is %s there): a required check must run on every pull request", sc.Name, j.If, t))
					break
				}
			}
			for _, s := range c.flow(j) {
				gate := s.Action() == "aquasecurity/trivy-action"
				var makes []*shell.Command
				var sc *shell.Script
				if s.Run != "" {
					var err error
					sc, err = c.script(w, j, s)
					if err != nil {
						continue
					}
					for _, cmd := range sc.Commands {
						if base(cmd.Name) == "make" || base(cmd.Name) == "gmake" {
							makes = append(makes, cmd)
						}
					}
				}
				if !gate && len(makes) == 0 {
					continue
				}
				line := s.Line
				for p := s; p != nil; p = p.Parent {
					if coe := p.ContinueOnError; coe != "" && coe != "false" {
						out = append(out, finding(name, c.stepPath(w, s), line, j.ID, "step %q has continue-on-error: %s, so its failure does not fail the check", s.Label(), coe))
					}
				}
				runs := true
				for _, sc := range prs {
					if t := c.stepTruth(s, sc, cond.Normal, nil); t != cond.True {
						out = append(out, finding(name, c.stepPath(w, s), line, j.ID, "step %q may be skipped on a %s (if: %q is %s there)", s.Label(), sc.Name, condText(s), t))
						runs = false
						break
					}
				}
				for _, m := range makes {
					mline := s.ScriptLine + m.Line - 1
					bad := false
					for _, f := range makeBadFlags {
						if m.Has(f) || slices.ContainsFunc(m.Args, func(a shell.Word) bool { return isShortFlagGroup(a.Text, f) }) {
							out = append(out, finding(name, c.stepPath(w, s), mline, j.ID, "`%s` passes %s, so make does not really run the target or ignores its failure", m.Text, f))
							bad = true
						}
					}
					var targets []shell.Word
					for _, a := range m.Operands(valued("-C", "--directory", "-f", "--file", "--makefile", "-j", "--jobs", "-l", "-o", "-I", "--include-dir", "-W")) {
						if strings.Contains(a.Text, "=") {
							out = append(out, finding(name, c.stepPath(w, s), mline, j.ID, "`%s` overrides %s on the command line, which can empty what the target runs", m.Text, a.Text))
							bad = true
							continue
						}
						targets = append(targets, a)
					}
					if v := sc.FailsWithout([]*shell.Command{m}); !v.OK {
						out = append(out, finding(name, c.stepPath(w, s), mline, j.ID, "`%s`: %s", m.Text, v.Reason))
						bad = true
					}
					if bad || !runs {
						continue
					}
					for _, t := range targets {
						if t.Known {
							covered[t.Text] = true
							continue
						}
						if c.matrixFromMake(w, j, s, t.Text) {
							matrixFromMake = true
						}
					}
				}
			}
		}
	}
	var missing []string
	for _, t := range c.Cfg.RequiredTargets {
		if covered[t] || matrixFromMake && slices.Contains(c.Cfg.MatrixTargets, t) {
			continue
		}
		missing = append(missing, t)
	}
	if len(missing) > 0 {
		out = append(out, finding(name, strings.Join(c.Cfg.RequiredWorkflows, ", "), 0, "", "no required job runs `make %s` on every pull request (gating): those checks would not block a merge", strings.Join(missing, "`, `make ")))
	}
	return out
}

// isShortFlagGroup reports whether a word like -ik holds the short flag f.
func isShortFlagGroup(word, f string) bool {
	return len(f) == 2 && len(word) > 2 && word[0] == '-' && word[1] != '-' && strings.ContainsRune(word[1:], rune(f[1]))
}

// matrixFromMake reports whether a make argument such as "$TARGET" is a matrix value whose list
// comes from `make <MatrixTarget>` in another job of the workflow.
func (c *Context) matrixFromMake(w *pipeline.Workflow, j *pipeline.Job, s *pipeline.Step, word string) bool {
	m := matrixRef.FindStringSubmatch(strings.TrimSpace(word))
	if m == nil {
		return false
	}
	n := fromJSONNeeds.FindStringSubmatch(strings.TrimSpace(j.MatrixExprs[m[1]]))
	if n == nil || !slices.Contains(j.Needs, n[1]) {
		return false
	}
	src, ok := findJob(w, n[1])
	if !ok {
		return false
	}
	o := stepOutput.FindStringSubmatch(strings.TrimSpace(src.Outputs[n[2]]))
	if o == nil {
		return false
	}
	for _, st := range c.flow(src) {
		if !strings.EqualFold(st.ID, o[1]) || st.Run == "" {
			continue
		}
		sc, err := c.script(w, src, st)
		if err != nil {
			return false
		}
		for _, cmd := range sc.Commands {
			if base(cmd.Name) == "make" && slices.ContainsFunc(cmd.Operands(nil), func(a shell.Word) bool { return a.Text == c.Cfg.MatrixTarget }) {
				return sc.FailsWithout([]*shell.Command{cmd}).OK
			}
		}
	}
	return false
}

func findJob(w *pipeline.Workflow, id string) (*pipeline.Job, bool) {
	for _, j := range w.Jobs {
		if j.ID == id {
			return j, true
		}
	}
	return nil, false
}
