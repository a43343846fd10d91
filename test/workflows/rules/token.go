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

// The token family: what a job's GitHub token and cloud identity can do, and who can make a
// job run with them.

// scopeNeeded says whether a job's steps need a write scope.
func (c *Context) scopeNeeded(w *pipeline.Workflow, j *pipeline.Job, scope string) bool {
	if j.Call != nil {
		return scope == "id-token" || scope == "security-events" || scope == "attestations"
	}
	uses := func(actions ...string) bool {
		return slices.ContainsFunc(c.flow(j), func(s *pipeline.Step) bool {
			a := s.Action()
			return slices.ContainsFunc(actions, func(x string) bool { return a == x || strings.HasPrefix(a, x+"/") })
		})
	}
	switch scope {
	case "id-token":
		if uses("aws-actions/configure-aws-credentials", "azure/login", "google-github-actions/auth", "actions/attest-build-provenance", "actions/attest", "actions/attest-sbom") {
			return true
		}
		return slices.ContainsFunc(c.commands(w, j), func(cm command) bool { return signs(cm.cmd) })
	case "security-events":
		return uses("github/codeql-action")
	case "attestations":
		return uses("actions/attest-build-provenance", "actions/attest", "actions/attest-sbom")
	}
	return false
}

func checkPermissions(c *Context) []Finding {
	const name = "permissions"
	var out []Finding
	for _, w := range c.Repo.Workflows {
		switch p := w.Permissions; {
		case p == nil:
			out = append(out, finding(name, w.Path, 1, "", "no top-level permissions: declare `permissions: {}` so that no job inherits the default token scopes"))
		case p.All != "" && p.All != "read-all":
			out = append(out, finding(name, w.Path, p.Line, "", "top-level permissions are %s: declare `permissions: {}` and grant each job what it needs", p.All))
		default:
			for _, s := range p.Writes() {
				out = append(out, finding(name, w.Path, p.Line, "", "top-level permissions grant write to %s: grant it only to the job that needs it", s))
			}
		}
		for _, j := range w.Jobs {
			p := j.Permissions
			if p == nil {
				out = append(out, finding(name, w.Path, j.Line, j.ID, "declares no permissions, so it gets the workflow's (or the repository's default) token scopes"))
				continue
			}
			if p.All == "write-all" {
				out = append(out, finding(name, w.Path, p.Line, j.ID, "grants write-all"))
				continue
			}
			for _, s := range p.Writes() {
				if !c.scopeNeeded(w, j, s) {
					out = append(out, finding(name, w.Path, p.Line, j.ID, "grants %s: write, which no step of this job needs", s))
				}
			}
		}
	}
	return out
}

func checkCheckoutCredentials(c *Context) []Finding {
	var out []Finding
	for _, w := range c.Repo.Workflows {
		for _, j := range w.Jobs {
			for _, s := range c.flow(j) {
				if s.Action() == "actions/checkout" && strings.TrimSpace(s.With["persist-credentials"]) != "false" {
					out = append(out, finding("checkout-credentials", c.stepPath(w, s), s.UsesLine, j.ID, "step %q checks out without persist-credentials: false, leaving the token in .git/config for every later step", s.Label()))
				}
			}
		}
	}
	return out
}

func checkNoPullRequestTarget(c *Context) []Finding {
	var out []Finding
	for _, w := range c.Repo.Workflows {
		for _, t := range w.Triggers {
			if t.Event == "pull_request_target" {
				out = append(out, finding("no-pull-request-target", w.Path, t.Line, "", "runs on pull_request_target: a fork's pull request would run with this repository's token and secrets"))
			}
		}
	}
	return out
}

var (
	expression        = regexp.MustCompile(`\$\{\{.*?\}\}`)
	untrustedContexts = regexp.MustCompile(`\b(github\.event|github\.head_ref|inputs\.|steps\.|needs\.|matrix\.|vars\.|env\.)`)
)

func checkNoExpressionsInRun(c *Context) []Finding {
	const name = "no-expressions-in-run"
	var out []Finding
	check := func(path, job string, line int, label, script string) {
		for _, e := range expression.FindAllString(script, -1) {
			kind := "an expression"
			if untrustedContexts.MatchString(e) {
				kind = "data an outsider or an earlier step controls"
			}
			out = append(out, finding(name, path, line, job, "step %q pastes %s into its script: %s; pass it through env: and quote \"$VAR\"", label, kind, e))
		}
	}
	// A step's code: its script, its shell (an expression there is a command line too), a
	// github-script, and a container step's entrypoint and arguments.
	steps := func(path, job string, ss []*pipeline.Step) {
		for _, s := range ss {
			check(path, job, s.RunLine, s.Label(), s.Run)
			check(path, job, s.Line, s.Label()+"'s shell", s.Shell)
			switch {
			case s.Action() == "actions/github-script":
				check(path, job, s.UsesLine, s.Label(), s.With["script"])
			case strings.HasPrefix(s.Uses, "docker://"):
				check(path, job, s.UsesLine, s.Label()+"'s container", s.With["entrypoint"]+" "+s.With["args"])
			}
		}
	}
	for _, w := range c.Repo.Workflows {
		check(w.Path, "", 1, "defaults.run.shell", w.Shell)
		for _, j := range w.Jobs {
			check(w.Path, j.ID, j.Line, "defaults.run.shell", j.Shell)
			steps(w.Path, j.ID, j.Steps)
		}
	}
	for _, a := range c.sortedActions() {
		steps(a.Path, "", a.Steps)
	}
	return out
}

var (
	credentialName = regexp.MustCompile(`(?i)(SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE_KEY|ACCESS_KEY|CREDENTIALS|API_KEY|KUBECONFIG)`)
	githubToken    = regexp.MustCompile(`^\$\{\{\s*(github\.token|secrets\.GITHUB_TOKEN)\s*\}\}$`)
)

// credentialInputs are inputs of login actions that take a stored credential.
var credentialInputs = map[string][]string{
	"aws-actions/configure-aws-credentials": {"aws-access-key-id", "aws-secret-access-key", "aws-session-token", "web-identity-token-file"},
	"docker/login-action":                   {"password"},
	"azure/login":                           {"creds", "client-secret"},
	"google-github-actions/auth":            {"credentials_json"},
	"azure/k8s-set-context":                 {"kubeconfig"},
	"sigstore/cosign-installer":             {},
}

func checkNoLongLivedCredentials(c *Context) []Finding {
	const name = "no-static-cloud-credentials"
	var out []Finding
	for _, p := range slices.Sorted(maps.Keys(c.Repo.Secrets)) {
		for _, ref := range c.Repo.Secrets[p] {
			out = append(out, finding(name, p, ref.Line, "", "reads the stored secret %s: a long-lived credential; assume a role through GitHub OIDC (or use the job's own token)", ref.Name))
		}
	}
	for _, w := range c.Repo.Workflows {
		for _, j := range w.Jobs {
			if j.Call != nil && j.Call.InheritSecrets {
				out = append(out, finding(name, w.Path, j.Call.Line, j.ID, "passes every secret of the repository to %s (secrets: inherit)", j.Call.Uses))
			}
			envs := []pipeline.Env{w.Env, j.Env}
			for _, s := range c.flow(j) {
				envs = append(envs, s.Env)
				if s.Action() == "aws-actions/configure-aws-credentials" && strings.TrimSpace(s.With["role-to-assume"]) == "" {
					out = append(out, finding(name, c.stepPath(w, s), s.UsesLine, j.ID, "configure-aws-credentials without role-to-assume: credentials must come from an OIDC role"))
				}
				for _, in := range credentialInputs[s.Action()] {
					v := strings.TrimSpace(s.With[in])
					if v == "" || githubToken.MatchString(v) {
						continue
					}
					out = append(out, finding(name, c.stepPath(w, s), s.UsesLine, j.ID, "step %q gives %s a stored credential (%s): use an OIDC role", s.Label(), s.Action(), in))
				}
			}
			for _, e := range envs {
				for _, k := range slices.Sorted(maps.Keys(e.Vars)) {
					v := strings.TrimSpace(e.Vars[k])
					if !credentialName.MatchString(k) || v == "" || githubToken.MatchString(v) {
						continue
					}
					out = append(out, finding(name, w.Path, e.Line, j.ID, "sets the credential variable %s: no stored or pasted credentials; assume a role through GitHub OIDC", k))
				}
			}
		}
	}
	return dedupeFindings(out)
}

func dedupeFindings(fs []Finding) []Finding {
	seen := map[string]bool{}
	var out []Finding
	for _, f := range fs {
		if k := f.String(); !seen[k] {
			seen[k] = true
			out = append(out, f)
		}
	}
	return out
}

func checkReusableWorkflows(c *Context) []Finding {
	var out []Finding
	for _, w := range c.Repo.Workflows {
		for _, j := range w.Jobs {
			if j.Call != nil && j.Call.InheritSecrets {
				out = append(out, finding("reusable-workflows", w.Path, j.Call.Line, j.ID, "calls %s with secrets: inherit, handing it every secret of the repository: pass the few it needs by name, or none", j.Call.Uses))
			}
		}
	}
	return out
}

// prJobs lists the jobs of a workflow that can run for a pull request, with the scenario.
func (c *Context) prJobs(w *pipeline.Workflow) map[*pipeline.Job]cond.Scenario {
	out := map[*pipeline.Job]cond.Scenario{}
	for _, sc := range c.scenarios(w) {
		if !sc.PullRequest() {
			continue
		}
		truth := c.jobTruth(w, sc, "")
		for _, j := range w.Jobs {
			if _, done := out[j]; !done && truth[j.ID] != cond.False {
				out[j] = sc
			}
		}
	}
	return out
}

var hostedLabel = regexp.MustCompile(`^(ubuntu|windows|macos)-[0-9a-z.-]+$`)

func checkRunners(c *Context) []Finding {
	const name = "runners"
	var out []Finding
	for _, w := range c.Repo.Workflows {
		for j, sc := range c.prJobs(w) {
			if j.Call != nil {
				continue
			}
			labels := j.RunsOn
			if j.RunsOnExpr != "" {
				m := matrixRef.FindStringSubmatch(j.RunsOnExpr)
				if m == nil || j.MatrixExpr || len(j.Matrix[m[1]]) == 0 {
					out = append(out, finding(name, w.Path, j.Line, j.ID, "can run for a %s, on a runner chosen at run time (runs-on: %s)", sc.Name, j.RunsOnExpr))
					continue
				}
				labels = j.Matrix[m[1]]
			}
			if j.RunnerGroup != "" {
				out = append(out, finding(name, w.Path, j.Line, j.ID, "can run for a %s, on runner group %q (self-hosted)", sc.Name, j.RunnerGroup))
			}
			for _, l := range labels {
				if !hostedLabel.MatchString(l) {
					out = append(out, finding(name, w.Path, j.Line, j.ID, "can run for a %s, on runner label %q, not a GitHub-hosted one: a pull request's code would run on a machine that outlives it", sc.Name, l))
				}
			}
		}
	}
	return out
}

var matrixRef = regexp.MustCompile(`^\$\{\{\s*matrix\.([A-Za-z0-9_-]+)\s*\}\}$`)

// roles lists the roles a job assumes (role-to-assume values, matrix values expanded).
func (c *Context) roles(j *pipeline.Job) []string {
	var out []string
	for _, s := range c.flow(j) {
		if s.Action() != "aws-actions/configure-aws-credentials" {
			continue
		}
		out = append(out, roleKeys(j, s.With["role-to-assume"])...)
	}
	return out
}

var (
	varsDot    = regexp.MustCompile(`^\$\{\{\s*vars\.([A-Za-z0-9_]+)\s*\}\}$`)
	varsIndex  = regexp.MustCompile(`^\$\{\{\s*vars\[\s*'([A-Za-z0-9_]+)'\s*\]\s*\}\}$`)
	varsMatrix = regexp.MustCompile(`^\$\{\{\s*vars\[\s*matrix\.([A-Za-z0-9_-]+)\s*\]\s*\}\}$`)
)

// roleKeys names what a role-to-assume value stands for: vars.NAME for repository variables
// (matrix indexing expanded), the value itself otherwise.
func roleKeys(j *pipeline.Job, v string) []string {
	v = strings.TrimSpace(v)
	if m := varsDot.FindStringSubmatch(v); m != nil {
		return []string{"vars." + m[1]}
	}
	if m := varsIndex.FindStringSubmatch(v); m != nil {
		return []string{"vars." + m[1]}
	}
	if m := varsMatrix.FindStringSubmatch(v); m != nil {
		var out []string
		for _, val := range j.Matrix[m[1]] {
			out = append(out, "vars."+val)
		}
		return out
	}
	if m := matrixRef.FindStringSubmatch(v); m != nil {
		return j.Matrix[m[1]]
	}
	return []string{shell.Canonical(v)}
}

// powerful reports what a job does that only trusted runs may do, or "".
func (c *Context) powerful(w *pipeline.Workflow, j *pipeline.Job) string {
	for _, s := range c.flow(j) {
		if pushStep(s) {
			return fmt.Sprintf("pushes an image (step %q)", s.Label())
		}
		if deployAction(s) {
			return fmt.Sprintf("changes a cluster (step %q uses %s)", s.Label(), s.Action())
		}
	}
	for _, cm := range c.commands(w, j) {
		switch {
		case deploys(cm.cmd):
			return fmt.Sprintf("changes a cluster (`%s`)", cm.cmd.Text)
		case pushes(cm.cmd):
			return fmt.Sprintf("pushes an image (`%s`)", cm.cmd.Text)
		case signs(cm.cmd):
			return fmt.Sprintf("signs (`%s`)", cm.cmd.Text)
		case terraformChanges(cm.cmd):
			return fmt.Sprintf("changes infrastructure (`%s`)", cm.cmd.Text)
		}
	}
	return ""
}

func checkPullRequestIsolation(c *Context) []Finding {
	const name = "pull-request-isolation"
	var out []Finding
	privilegedRoles := map[string]string{}
	for _, w := range c.Repo.Workflows {
		for _, j := range w.Jobs {
			if j.Environment == "" && c.powerful(w, j) == "" {
				continue
			}
			for _, r := range c.roles(j) {
				privilegedRoles[r] = w.Path + " job " + j.ID
			}
		}
	}
	for _, w := range c.Repo.Workflows {
		prs := c.prJobs(w)
		for _, j := range w.Jobs {
			sc, ok := prs[j]
			if !ok {
				continue
			}
			if j.Environment != "" {
				out = append(out, finding(name, w.Path, j.EnvLine, j.ID, "can run for a %s, in environment %q: its protection and its roles would serve a pull request", sc.Name, j.Environment))
			}
			if what := c.powerful(w, j); what != "" {
				out = append(out, finding(name, w.Path, j.Line, j.ID, "can run for a %s, and %s", sc.Name, what))
			}
			for _, r := range c.roles(j) {
				if by, ok := privilegedRoles[r]; ok {
					out = append(out, finding(name, w.Path, j.Line, j.ID, "can run for a %s, and assumes %s, the role %s uses: a pull request's code would hold it", sc.Name, r, by))
				}
			}
			p := j.Permissions
			if p == nil {
				p = w.Permissions
			}
			if p != nil {
				for _, s := range p.Writes() {
					if s != "security-events" && s != "id-token" {
						out = append(out, finding(name, w.Path, p.Line, j.ID, "can run for a %s, with %s: write", sc.Name, s))
					}
				}
			}
		}
	}
	return out
}

func checkEnvFileInjection(c *Context) []Finding {
	var out []Finding
	c.privilegedJobs(func(w *pipeline.Workflow, j *pipeline.Job) {
		for _, cm := range c.commands(w, j) {
			for _, t := range writtenFiles(cm.cmd) {
				if strings.Contains(t.Text, "GITHUB_ENV") || strings.Contains(t.Text, "GITHUB_PATH") {
					out = append(out, finding("env-file-injection", c.stepPath(w, cm.step), cm.step.ScriptLine+cm.cmd.Line-1, j.ID, "step %q writes to %s in a privileged job: every later step would run with what it writes", cm.step.Label(), t.Text))
				}
			}
		}
	})
	return out
}

func checkShellReadable(c *Context) []Finding {
	var out []Finding
	c.privilegedJobs(func(w *pipeline.Workflow, j *pipeline.Job) {
		for _, s := range c.flow(j) {
			if strings.HasPrefix(s.Uses, "./") {
				if a, ok := c.Repo.Action(s.Uses); !ok || a.Using != "composite" {
					using := "no action.yml the rules can read"
					if ok {
						using = "runs.using " + a.Using
					}
					out = append(out, finding("shell-readable", c.stepPath(w, s), s.UsesLine, j.ID, "step %q runs the repository's action %s (%s) in a privileged job: only composite actions, whose steps the rules read, run there", s.Label(), s.Uses, using))
				}
			}
			if s.Run == "" {
				continue
			}
			sc, err := c.script(w, j, s)
			if err != nil {
				out = append(out, finding("shell-readable", c.stepPath(w, s), s.RunLine, j.ID, "step %q: %v", s.Label(), err))
				continue
			}
			for _, o := range sc.Opaque {
				out = append(out, finding("shell-readable", c.stepPath(w, s), s.ScriptLine+o.Line-1, j.ID, "step %q runs code the rules cannot read in a privileged job: `%s`: %s", s.Label(), o.Text, o.Why))
			}
		}
	})
	return out
}

// roleSource matches what may name a role to assume: the workflow itself (a literal ARN) or the
// repository's configuration (vars.*). An input, an event field, a matrix value or a step's
// output would let whoever starts the run, or whatever ran before, pick another role that trusts
// the same subject (the apply role from a deploy job of the same environment).
var roleSource = regexp.MustCompile(`^(arn:[a-z-]+:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+|\$\{\{\s*vars\.[A-Za-z0-9_]+\s*\}\})$`)

var varsOfMatrix = regexp.MustCompile(`^\$\{\{\s*vars\[\s*matrix\.([A-Za-z0-9_-]+)\s*\]\s*\}\}$`)

// matrixVar reports whether a value is vars[matrix.KEY] where the job's matrix lists KEY's
// values literally (each the name of a repository variable), not from an expression.
func matrixVar(j *pipeline.Job, v string) bool {
	m := varsOfMatrix.FindStringSubmatch(v)
	if m == nil || j.MatrixExpr || len(j.MatrixExprs) > 0 || len(j.Matrix[m[1]]) == 0 {
		return false
	}
	for _, name := range j.Matrix[m[1]] {
		if !literalEnv.MatchString(name) {
			return false
		}
	}
	return true
}

func checkRoleSource(c *Context) []Finding {
	const name = "role-source"
	var out []Finding
	for _, w := range c.Repo.Workflows {
		for _, j := range w.Jobs {
			for _, s := range c.flow(j) {
				if s.Action() != "aws-actions/configure-aws-credentials" {
					continue
				}
				if r := strings.TrimSpace(s.With["role-to-assume"]); r != "" && !roleSource.MatchString(r) && !matrixVar(j, r) {
					out = append(out, finding(name, c.stepPath(w, s), s.UsesLine, j.ID, "step %q assumes the role %q: a role is named by the workflow or a repository variable (vars.*), never by an input, an event, a matrix or an earlier step", s.Label(), r))
				}
				if v := strings.TrimSpace(s.With["role-chaining"]); v == "true" {
					out = append(out, finding(name, c.stepPath(w, s), s.UsesLine, j.ID, "step %q chains roles: the job holds the first role's power too", s.Label()))
				}
			}
			for _, cm := range c.commands(w, j) {
				if svc, op := awsCall(cm.cmd); svc == "sts" && strings.HasPrefix(op, "assume-role") {
					out = append(out, finding(name, c.stepPath(w, cm.step), cm.step.ScriptLine+cm.cmd.Line-1, j.ID, "step %q: `%s` assumes a role from a script: roles are assumed through GitHub OIDC by configure-aws-credentials, with the role the workflow names", cm.step.Label(), cm.cmd.Text))
				}
			}
		}
	}
	return out
}
