package rules

import (
	"regexp"

	"github.com/platform-template/template-api/test/workflows/cond"
)

// The hygiene family: files GitHub reads as written, jobs that end, runs that do not race.

func checkWorkflowSyntax(c *Context) []Finding {
	var out []Finding
	for _, p := range c.Repo.Problems {
		out = append(out, finding("workflow-syntax", p.Path, p.Line, "", "GitHub would not read this as written: %s", p.Message))
	}
	for _, w := range c.Repo.Workflows {
		for _, j := range w.Jobs {
			if _, err := cond.Parse(j.If); err != nil {
				out = append(out, finding("workflow-syntax", w.Path, j.IfLine, j.ID, "%v", err))
			}
			for _, s := range c.flow(j) {
				if _, err := cond.Parse(s.If); err != nil {
					out = append(out, finding("workflow-syntax", c.stepPath(w, s), s.Line, j.ID, "%v", err))
				}
			}
		}
	}
	return out
}

var positiveNumber = regexp.MustCompile(`^[1-9][0-9]*(\.[0-9]+)?$`)

func checkTimeouts(c *Context) []Finding {
	var out []Finding
	for _, w := range c.Repo.Workflows {
		for _, j := range w.Jobs {
			if j.Call != nil {
				continue
			}
			if !positiveNumber.MatchString(j.Timeout) {
				msg := "no timeout-minutes (a hung job holds a runner, and its token, for 6 hours)"
				if j.Timeout != "" {
					msg = "timeout-minutes is " + j.Timeout + ", not a fixed number of minutes"
				}
				out = append(out, finding("timeouts", w.Path, j.Line, j.ID, "%s", msg))
			}
		}
	}
	return out
}

func checkConcurrency(c *Context) []Finding {
	const name = "concurrency"
	var out []Finding
	for _, w := range c.Repo.Workflows {
		if w.Concurrency == nil || w.Concurrency.Group == "" {
			for _, j := range w.Jobs {
				if j.Concurrency == nil || j.Concurrency.Group == "" {
					out = append(out, finding(name, w.Path, j.Line, j.ID, "no concurrency group on the workflow or the job: two runs can race on the same target"))
				}
			}
		}
		powerful := false
		for _, j := range w.Jobs {
			if c.powerful(w, j) != "" {
				powerful = true
			}
		}
		if !powerful {
			continue
		}
		check := func(cc string, job string) {
			if cc == "" || cc == "false" {
				return
			}
			for _, sc := range c.scenarios(w) {
				if !sc.Trusted {
					continue
				}
				if c.eval(cc, cond.Env{Values: sc.Values(), Status: cond.Normal}) != cond.False {
					out = append(out, finding(name, w.Path, 0, job, "cancel-in-progress: %s can cancel a run that pushes, deploys or applies half-way (on a %s)", cc, sc.Name))
					return
				}
			}
		}
		if w.Concurrency != nil {
			check(w.Concurrency.CancelInProgress, "")
		}
		for _, j := range w.Jobs {
			if j.Concurrency != nil {
				check(j.Concurrency.CancelInProgress, j.ID)
			}
		}
	}
	return out
}
