package rules

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/platform-template/template-api/test/workflows/cond"
	"github.com/platform-template/template-api/test/workflows/pipeline"
	"github.com/platform-template/template-api/test/workflows/shell"
)

// The terraform family: infrastructure changes only by applying a plan made in the same job,
// checked by the policies, after the workflow's checks, from main.

func chdir(cmd *shell.Command) string {
	for _, a := range cmd.Args {
		if v, ok := strings.CutPrefix(a.Text, "-chdir="); ok {
			return path.Clean(v)
		}
	}
	return "."
}

// planOperand returns the plan file a terraform apply or show names (its last operand after the
// subcommand), or "" when it names none.
func planOperand(cmd *shell.Command) string {
	if ops := cmd.Operands(terraformValued); len(ops) >= 2 {
		return ops[len(ops)-1].Text
	}
	return ""
}

// planFile returns the -out= of a terraform plan.
func planFile(cmd *shell.Command) string {
	for _, v := range cmd.Flag("-out", "--out") {
		return v.Text
	}
	return ""
}

func checkTerraformApply(c *Context) []Finding {
	const name = "terraform-apply"
	var out []Finding
	c.eachJob(func(w *pipeline.Workflow, j *pipeline.Job) {
		cmds := c.commands(w, j)
		for _, a := range cmds {
			if !terraformChanges(a.cmd) {
				continue
			}
			line := a.step.ScriptLine + a.cmd.Line - 1
			at := func(format string, args ...any) {
				out = append(out, finding(name, c.stepPath(w, a.step), line, j.ID, "step %q: `%s` %s", a.step.Label(), a.cmd.Text, fmt.Sprintf(format, args...)))
			}
			sub := terraform(a.cmd)
			if sub != "apply" {
				at("changes infrastructure or state outside a reviewed plan (%s)", sub)
				continue
			}
			if a.cmd.Has("-destroy") {
				at("destroys the environment")
				continue
			}
			file := planOperand(a.cmd)
			if file == "" {
				at("applies without a saved plan (it plans and applies at once, with nothing checked in between)")
				continue
			}
			if a.cmd.Has("-var", "-var-file", "-replace", "-target") {
				at("changes what is applied on the command line (-var, -var-file, -replace, -target)")
			}
			// The plan it applies, made in the same directory, gating the apply.
			var plans []command
			for _, p := range cmds {
				if terraform(p.cmd) == "plan" && chdir(p.cmd) == chdir(a.cmd) && planFile(p.cmd) == file && !p.cmd.Has("-destroy") {
					plans = append(plans, p)
				}
			}
			if len(plans) == 0 {
				at("applies %q, which no `terraform plan -out=%s` of the same directory makes earlier in this job", file, file)
				continue
			}
			for _, p := range plans {
				for _, f := range []string{"-target", "-replace", "-var", "-var-file"} {
					if p.cmd.Has(f) {
						at("applies a plan made with %s (`%s`): what is applied is the reviewed configuration, whole", f, p.cmd.Text)
					}
				}
			}
			for _, i := range cmds {
				if terraform(i.cmd) != "init" || chdir(i.cmd) != chdir(a.cmd) {
					continue
				}
				for _, f := range []string{"-upgrade", "-plugin-dir", "-from-module", "-get-plugins"} {
					if i.cmd.Has(f) {
						at("follows `%s`, whose %s takes providers or modules other than the reviewed lock file's", i.cmd.Text, f)
					}
				}
				for _, v := range i.cmd.Flag("-lockfile") {
					if v.Text != "readonly" {
						at("follows `%s`, which lets init change the provider lock file (-lockfile=%s)", i.cmd.Text, v.Text)
					}
				}
			}
			if ok, why := c.gatedBy(w, j, plans, a); !ok {
				at("is not gated by its plan: %s", why)
			}
			// The policy check of the plan, if any, must gate the apply too.
			policies := c.policyChecks(cmds, chdir(a.cmd), file)
			switch {
			case len(policies) == 0 && c.Cfg.RequirePlanPolicy:
				at("applies a plan no policy check has read (terraform show -json %s, then the policy command)", file)
			case len(policies) > 0:
				if ok, why := c.gatedBy(w, j, policies, a); !ok {
					at("is not gated by the policy check of its plan: %s", why)
				}
				for _, p := range policies {
					if env := judgedAs(p.cmd); env != "" && j.Environment != "" && env != j.Environment {
						at("is checked by `%s` with %s's rules, not those of its environment %s", p.cmd.Text, env, j.Environment)
					}
				}
			}
		}
	})
	return out
}

// judgedAs returns the environment a policy check names (make tf-policy ENVIRONMENT=..., or
// tfpolicy -environment ...), "" when it names none (production's rules, the strictest).
func judgedAs(cmd *shell.Command) string {
	for _, a := range cmd.Args {
		if v, ok := strings.CutPrefix(a.Text, "ENVIRONMENT="); ok {
			return strings.Trim(v, `"'`)
		}
	}
	for _, v := range cmd.Flag("-environment", "--environment") {
		return v.Text
	}
	return ""
}

// policyChecks are the commands that check a plan against the policies: a command that names
// the JSON `terraform show -json FILE` wrote, or the plan file itself (a check that renders the
// JSON on its own).
func (c *Context) policyChecks(cmds []command, dir, file string) []command {
	var jsonFiles []string
	for _, cm := range cmds {
		if terraform(cm.cmd) != "show" || chdir(cm.cmd) != dir || !cm.cmd.Has("-json") {
			continue
		}
		if f := planOperand(cm.cmd); f == "" || f != file {
			continue
		}
		for _, o := range cm.cmd.Stdout {
			jsonFiles = append(jsonFiles, o.Text)
		}
	}
	var out []command
	for _, cm := range cmds {
		if terraform(cm.cmd) != "" {
			continue
		}
		reads := false
		planPath := path.Join(dir, file)
		for _, a := range cm.cmd.Args {
			v := a.Text
			if _, after, ok := strings.Cut(v, "="); ok {
				v = after
			}
			if v == planPath || dir == "." && v == file {
				reads = true
			}
			for _, jf := range jsonFiles {
				if strings.Contains(a.Text, jf) || (path.Base(jf) != jf && strings.Contains(a.Text, path.Base(jf)) && strings.Contains(jf, a.Text)) {
					reads = true
				}
			}
		}
		if cm.cmd.Stdin != nil && slices.Contains(jsonFiles, cm.cmd.Stdin.Text) {
			reads = true
		}
		if reads {
			out = append(out, cm)
		}
	}
	return out
}

// checkJobs are the jobs of a workflow that check rather than change: no environment, no
// power, and they run for a push to main.
func (c *Context) checkJobs(w *pipeline.Workflow) []*pipeline.Job {
	var out []*pipeline.Job
	for _, j := range w.Jobs {
		if j.Environment != "" || c.powerful(w, j) != "" || privileged(w, j) && c.roles(j) != nil {
			continue
		}
		if slices.ContainsFunc(w.Jobs, func(a *pipeline.Job) bool {
			return needsTransitively(w, j, a.ID) && slices.ContainsFunc(c.commands(w, a), func(cm command) bool { return terraformChanges(cm.cmd) })
		}) {
			continue // it runs after an apply: a check of what was applied, not a gate of it
		}
		for _, sc := range c.scenarios(w) {
			if sc.Event == "push" && sc.Ref == "refs/heads/main" && c.jobTruth(w, sc, "")[j.ID] != cond.False {
				out = append(out, j)
				break
			}
		}
	}
	return out
}

func checkApplyAfterChecks(c *Context) []Finding {
	const name = "apply-after-checks"
	var out []Finding
	for _, w := range c.Repo.Workflows {
		checks := c.checkJobs(w)
		for _, j := range w.Jobs {
			if !slices.ContainsFunc(c.commands(w, j), func(cm command) bool { return terraformChanges(cm.cmd) }) {
				continue
			}
			for _, chk := range checks {
				if chk == j {
					continue
				}
				if !needsTransitively(w, j, chk.ID) {
					out = append(out, finding(name, w.Path, j.Line, j.ID, "applies Terraform without waiting for the check job %s: add it to needs (directly or through the job it needs)", chk.ID))
					continue
				}
				if ok, why := c.jobGates(w, chk, j); !ok {
					out = append(out, finding(name, w.Path, j.Line, j.ID, "applies Terraform even when check job %s does not succeed: %s", chk.ID, why))
				}
			}
		}
	}
	return out
}
