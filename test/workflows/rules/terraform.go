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
			at := c.atCommand(&out, name, w, j, a, true)
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
				// Without readonly, init installs and records whatever provider the configuration
				// asks for that the committed lock file does not hold (or all of them, when a change
				// deletes the lock file), unchecked, into the job that holds the apply role.
				if lf := i.cmd.Flag("-lockfile"); len(lf) == 0 || lf[len(lf)-1].Text != "readonly" {
					at("follows `%s`, which may install providers the committed lock file does not pin and write them into it: init with -lockfile=readonly", i.cmd.Text)
				}
				for _, why := range backendProblems(i.cmd, j.Environment, c.environments(w)) {
					at("follows `%s`, which %s", i.cmd.Text, why)
				}
			}
			for _, p := range append(plans, a) {
				who := "" // the apply itself, or the plan it applies
				if p.cmd != a.cmd {
					who = fmt.Sprintf("(its plan `%s`) ", p.cmd.Text)
				}
				for _, why := range append(stateFlagProblems(p.cmd), outsideCheckout(w, j, p, cmds, "its plan")...) {
					at("%s%s", who, why)
				}
			}
			for _, ws := range cmds {
				if terraform(ws.cmd) == "workspace" && !ws.cmd.Has("list", "show") {
					at("runs after `%s`: a job that applies works on the state of its environment's backend key, not a workspace it picks", ws.cmd.Text)
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
					for _, why := range outsideCheckout(w, j, p, cmds, "the plan it judges") {
						at("(its policy check `%s`) %s", p.cmd.Text, why)
					}
				}
				for _, sh := range cmds {
					if terraform(sh.cmd) == "show" && chdir(sh.cmd) == chdir(a.cmd) && planOperand(sh.cmd) == file {
						for _, why := range outsideCheckout(w, j, sh, cmds, "the plan it renders for the check") {
							at("(`%s`) %s", sh.cmd.Text, why)
						}
					}
				}
			}
		}
	})
	return out
}

// backendSettings are the -backend-config settings an init of an applying job may give: where
// the environment's state is (bucket, key, region) and how it is kept (encrypted, locked, with
// a key of its own). Any other (an endpoint, credentials, a role, skipped checks, a workspace
// prefix) changes where the state is read and written or who reads it.
var backendSettings = map[string]bool{"bucket": true, "key": true, "region": true, "encrypt": true, "use_lockfile": true, "kms_key_id": true, "dynamodb_table": true}

// backendProblems says why a terraform init of a job that applies in environment env (one of
// the workflow's envs) would work on another state than env's, or keep it unencrypted or
// unlocked.
func backendProblems(init *shell.Command, env string, envs []string) []string {
	var out []string
	for _, v := range init.Flag("-backend") {
		if v.Text != "true" {
			out = append(out, "turns the backend off (-backend=false): the apply would write a local state of its own, blind to the environment's")
		}
	}
	if init.Has("-migrate-state", "-force-copy") {
		out = append(out, "moves the state to another backend (-migrate-state, -force-copy)")
	}
	for _, v := range init.Flag("-backend-config") {
		name, value, ok := strings.Cut(v.Text, "=")
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("reads the backend's settings from the file %s, which the rules cannot judge (give them as -backend-config=name=value)", v.Text))
		case !backendSettings[name]:
			out = append(out, fmt.Sprintf("sets the backend's %s: only bucket, key, region, encrypt, use_lockfile, kms_key_id and dynamodb_table may be given; another setting changes where the state is kept or who reads it", name))
		case (name == "encrypt" || name == "use_lockfile") && value != "true":
			out = append(out, fmt.Sprintf("turns off the state's encryption or lock (%s=%s): the state stays encrypted and locked", name, value))
		case name == "key" && env != "":
			if why := stateKeyProblem(v, env, envs); why != "" {
				out = append(out, why)
			}
		}
	}
	return out
}

// stateKeyProblem says why a backend key is not environment env's own: it must name env and
// no other environment of the workflow.
func stateKeyProblem(key shell.Word, env string, envs []string) string {
	_, value, _ := strings.Cut(key.Text, "=")
	if !key.Known {
		return fmt.Sprintf("takes the state key %q from a value the rules cannot read: the key names the job's environment (%s)", value, env)
	}
	parts := strings.FieldsFunc(value, func(r rune) bool { return r == '/' || r == '.' || r == '_' })
	for _, other := range envs {
		if other != env && slices.Contains(parts, other) {
			return fmt.Sprintf("works on the state key %s, which is %s's, from a job of environment %s", value, other, env)
		}
	}
	if !slices.Contains(parts, env) {
		return fmt.Sprintf("works on the state key %s, which does not name the job's environment %s", value, env)
	}
	return ""
}

// stateFlagProblems says why a plan or apply of a job that applies would not work on the
// environment's state as it is: without the lock, without refreshing it first, on a local state
// file, or writing configuration.
func stateFlagProblems(cmd *shell.Command) []string {
	var out []string
	for _, v := range cmd.Flag("-lock") {
		if v.Text != "true" {
			out = append(out, "runs without the state lock (-lock=false): another run may write the state meanwhile")
		}
	}
	for _, v := range cmd.Flag("-refresh") {
		if v.Text != "true" {
			out = append(out, "skips reading the real infrastructure (-refresh=false): the plan judged is made against a stale state and hides drift")
		}
	}
	if cmd.Has("-state", "-state-out", "-backup") {
		out = append(out, "names a local state file (-state, -state-out, -backup) instead of the environment's backend")
	}
	if cmd.Has("-generate-config-out") {
		out = append(out, "writes configuration at plan time (-generate-config-out): what is applied is the reviewed configuration")
	}
	return out
}

// environments are the literal GitHub environments of a workflow's jobs.
func (c *Context) environments(w *pipeline.Workflow) []string {
	var out []string
	for _, j := range w.Jobs {
		if j.Environment != "" && !strings.Contains(j.Environment, "${{") && !slices.Contains(out, j.Environment) {
			out = append(out, j.Environment)
		}
	}
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
