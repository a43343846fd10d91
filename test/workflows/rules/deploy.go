package rules

import (
	"cmp"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/platform-template/template-api/test/workflows/cond"
	"github.com/platform-template/template-api/test/workflows/pipeline"
	"github.com/platform-template/template-api/test/workflows/shell"
)

// The deploy family: nothing reaches a cluster unless its signature and the evidence admission
// demands (the SBOM and provenance attestations) were verified against this repository's build
// on main, and only the deployer's objects of the environment's overlay are applied, from
// trusted runs, staging before production.

var verifyInsecure = []string{"--insecure-ignore-tlog", "--insecure-ignore-sct", "--allow-insecure-registry", "--allow-http-registry",
	"--private-infrastructure", "--key", "--sk", "--slot", "--certificate", "--certificate-chain", "--ca-roots",
	"--ca-intermediates", "--trusted-root", "--rekor-url", "--insecure-skip-tlog-verify", "--local-image"}

// signingWorkflows are the workflow files of this repository that sign images keyless.
func (c *Context) signingWorkflows() []string {
	var out []string
	for _, w := range c.Repo.Workflows {
		for _, j := range w.Jobs {
			if slices.ContainsFunc(c.commands(w, j), func(cm command) bool {
				return cosign(cm.cmd) == "sign" && !cm.cmd.Has("--key", "--sk")
			}) {
				out = append(out, path.Base(w.Path))
				break
			}
		}
	}
	return out
}

// predicateTypes maps cosign's short predicate type names to the URIs they stand for, so that
// `--type slsaprovenance1` and `--type https://slsa.dev/provenance/v1` compare equal.
var predicateTypes = map[string]string{
	"custom":           "https://cosign.sigstore.dev/attestation/v1",
	"slsaprovenance":   "https://slsa.dev/provenance/v0.2",
	"slsaprovenance02": "https://slsa.dev/provenance/v0.2",
	"slsaprovenance1":  "https://slsa.dev/provenance/v1",
	"spdx":             "https://spdx.dev/Document",
	"spdxjson":         "https://spdx.dev/Document",
	"cyclonedx":        "https://cyclonedx.org/bom",
	"link":             "https://in-toto.io/Link/v1",
	"vuln":             "https://cosign.sigstore.dev/attestation/vuln/v1",
	"openvex":          "https://openvex.dev/ns",
}

// PredicateType is the URI of a predicate type as cosign's --type names it (or the URI itself).
func PredicateType(t string) string { return predicateType(t) }

func predicateType(t string) string {
	if u, ok := predicateTypes[strings.ToLower(t)]; ok {
		return u
	}
	return t
}

// attestedTypes are the predicate types the signing workflows attest.
func (c *Context) attestedTypes() []string {
	var out []string
	for _, w := range c.Repo.Workflows {
		for _, j := range w.Jobs {
			for _, cm := range c.commands(w, j) {
				if cosign(cm.cmd) != "attest" {
					continue
				}
				t := "custom"
				if v := cm.cmd.Flag("--type"); len(v) > 0 {
					t = v[0].Text
				}
				out = append(out, predicateType(t))
			}
		}
	}
	return out
}

// identities are the certificate identities a verification may require: this repository's
// signing workflow on main (and, inside the signing workflow, at the ref it runs for).
func (c *Context) identities(w *pipeline.Workflow, requireMain bool) []string {
	var out []string
	for _, f := range c.signingWorkflows() {
		for _, host := range []string{"https://github.com", "${GITHUB_SERVER_URL}"} {
			id := host + "/${GITHUB_REPOSITORY}/.github/workflows/" + f + "@"
			out = append(out, id+"refs/heads/main")
			if !requireMain && path.Base(w.Path) == f {
				out = append(out, id+"${GITHUB_REF}")
			}
		}
	}
	return out
}

// verifyProblems lists why a cosign verify or verify-attestation would accept a signature
// it should not.
func (c *Context) verifyProblems(w *pipeline.Workflow, cmd *shell.Command, requireMain bool) []string {
	var p []string
	ids := c.identities(w, requireMain)
	switch id := cmd.Flag("--certificate-identity"); {
	case len(id) == 1 && slices.Contains(ids, id[0].Text):
	case len(id) > 1:
		p = append(p, "gives --certificate-identity twice")
	case len(id) == 1:
		want := "none: no workflow of this repository signs keyless"
		if len(ids) > 0 {
			want = ids[0]
		}
		p = append(p, fmt.Sprintf("trusts identity %q, not this repository's signing workflow (%s)", id[0].Text, want))
	case len(cmd.Flag("--certificate-identity-regexp")) > 0:
		p = append(p, fmt.Sprintf("matches the identity with a regular expression (%q) instead of the exact identity", cmd.Flag("--certificate-identity-regexp")[0].Text))
	default:
		p = append(p, "has no --certificate-identity, so any signer's certificate passes")
	}
	switch is := cmd.Flag("--certificate-oidc-issuer"); {
	case len(is) == 1 && is[0].Text == c.Cfg.Issuer:
	case len(is) >= 1:
		p = append(p, fmt.Sprintf("trusts OIDC issuer %q, not %s", is[0].Text, c.Cfg.Issuer))
	case len(cmd.Flag("--certificate-oidc-issuer-regexp")) > 0:
		p = append(p, fmt.Sprintf("matches the issuer with a regular expression (%q) instead of %s", cmd.Flag("--certificate-oidc-issuer-regexp")[0].Text, c.Cfg.Issuer))
	default:
		p = append(p, "has no --certificate-oidc-issuer")
	}
	for _, f := range verifyInsecure {
		if cmd.Has(f) {
			p = append(p, fmt.Sprintf("passes %s", f))
		}
	}
	for _, v := range cmd.Flag("--check-claims") {
		if v.Text == "false" {
			p = append(p, "passes --check-claims=false, so the signature need not be for this digest")
		}
	}
	return p
}

// verifiedRef is the image a verify names (its last operand).
func verifiedRef(cmd *shell.Command) string {
	ops := cmd.Operands(verifyValued)
	if len(ops) < 2 {
		return ""
	}
	return ops[len(ops)-1].Text
}

var verifyValued = valued("--certificate-identity", "--certificate-identity-regexp", "--certificate-oidc-issuer",
	"--certificate-oidc-issuer-regexp", "--certificate-github-workflow-repository", "--certificate-github-workflow-ref",
	"--certificate-github-workflow-sha", "--certificate-github-workflow-name", "--certificate-github-workflow-trigger",
	"--type", "--policy", "--key", "--certificate", "--certificate-chain", "--output", "-o", "--timeout", "-t",
	"--rekor-url", "--attachment", "--annotations", "-a", "--signature-digest-algorithm", "--ca-roots", "--ca-intermediates",
	"--trusted-root", "--sk", "--slot", "--predicate-type", "--max-workers")

// deployedRefs are the images a job puts into what it applies (kustomize edit set image,
// kubectl set image).
func (c *Context) deployedRefs(w *pipeline.Workflow, j *pipeline.Job) []string {
	var out []string
	for _, cm := range c.commands(w, j) {
		for _, a := range setImages(cm.cmd) {
			_, ref, ok := strings.Cut(a, "=")
			if ok {
				out = append(out, ref)
			}
		}
	}
	return out
}

// setImages returns the name=ref arguments of `kustomize edit set image` and `kubectl set image`.
func setImages(cmd *shell.Command) []string {
	var args []shell.Word
	switch base(cmd.Name) {
	case "kustomize":
		ops := cmd.Operands(nil)
		if len(ops) >= 3 && ops[0].Text == "edit" && ops[1].Text == "set" && ops[2].Text == "image" {
			args = ops[3:]
		}
	case "kubectl":
		ops := cmd.Operands(kubectlValued)
		if len(ops) >= 2 && ops[0].Text == "set" && ops[1].Text == "image" {
			args = ops[2:]
		}
	}
	var out []string
	for _, a := range args {
		if strings.Contains(a.Text, "=") {
			out = append(out, a.Text)
		}
	}
	return out
}

func checkVerifyBeforeDeploy(c *Context) []Finding {
	const name = "verify-before-deploy"
	var out []Finding
	types := c.attestedTypes()
	for _, w := range c.Repo.Workflows {
		for _, j := range w.Jobs {
			var deployCmds []command
			for _, s := range c.flow(j) {
				if deployAction(s) {
					deployCmds = append(deployCmds, command{step: s})
				}
			}
			for _, cm := range c.commands(w, j) {
				if deploys(cm.cmd) {
					deployCmds = append(deployCmds, cm)
				}
			}
			if len(deployCmds) == 0 {
				continue
			}
			refs := c.deployedRefs(w, j)
			var sigs []command
			atts := map[string][]command{} // by predicate type URI
			var rejected []string
			for _, cm := range c.commands(w, j) {
				sub := cosign(cm.cmd)
				if sub != "verify" && sub != "verify-attestation" {
					continue
				}
				probs := c.verifyProblems(w, cm.cmd, true)
				ref := verifiedRef(cm.cmd)
				for _, r := range refs {
					if r != ref {
						probs = append(probs, fmt.Sprintf("verifies %q, but the job deploys %q", ref, r))
					}
				}
				if sub == "verify-attestation" {
					t := "custom"
					if v := cm.cmd.Flag("--type"); len(v) > 0 {
						t = v[0].Text
					}
					if !slices.Contains(types, predicateType(t)) {
						probs = append(probs, fmt.Sprintf("verifies an attestation of type %q, which no build of this repository attests (%s)", t, strings.Join(types, ", ")))
					}
				}
				if len(probs) > 0 {
					rejected = append(rejected, fmt.Sprintf("`cosign %s` in step %q %s", sub, cm.step.Label(), strings.Join(probs, ", ")))
					continue
				}
				if sub == "verify" {
					sigs = append(sigs, cm)
				} else {
					t := "custom"
					if v := cm.cmd.Flag("--type"); len(v) > 0 {
						t = v[0].Text
					}
					atts[predicateType(t)] = append(atts[predicateType(t)], cm)
				}
			}
			for _, d := range deployCmds {
				line, text := d.step.UsesLine, d.step.Uses
				if d.cmd != nil {
					line, text = d.step.ScriptLine+d.cmd.Line-1, d.cmd.Text
				}
				kinds := []struct {
					what string
					cmds []command
				}{{"`cosign verify` of the image's signature", sigs}}
				for _, t := range EvidenceTypes {
					kinds = append(kinds, struct {
						what string
						cmds []command
					}{fmt.Sprintf("`cosign verify-attestation --type %s` of the image's %s", t, evidenceName(t)), atts[predicateType(t)]})
				}
				for _, kind := range kinds {
					if ok, why := c.gatedBy(w, j, kind.cmds, d); !ok {
						detail := why
						if len(rejected) > 0 {
							detail = strings.TrimPrefix(strings.Join([]string{why, "not counted: " + strings.Join(rejected, "; ")}, "; "), "; ")
						}
						out = append(out, finding(name, c.stepPath(w, d.step), line, j.ID, "step %q deploys (`%s`) without a %s that gates it: %s", d.step.Label(), text, kind.what, detail))
					}
				}
			}
		}
	}
	return out
}

// gatedBy says whether one of the check commands stops an action command: in the same
// script, or in an earlier step whose failure stops the action's step.
func (c *Context) gatedBy(w *pipeline.Workflow, j *pipeline.Job, checks []command, action command) (bool, string) {
	if len(checks) == 0 {
		return false, "there is none"
	}
	var reasons []string
	byStep := map[*pipeline.Step][]*shell.Command{}
	var steps []*pipeline.Step
	for _, g := range checks {
		if _, ok := byStep[g.step]; !ok {
			steps = append(steps, g.step)
		}
		byStep[g.step] = append(byStep[g.step], g.cmd)
	}
	for _, s := range steps {
		gs := byStep[s]
		if s == action.step && action.cmd != nil {
			v := action.script.Guards(gs, []*shell.Command{action.cmd})
			if v.OK {
				return true, ""
			}
			reasons = append(reasons, fmt.Sprintf("in step %q: %s", s.Label(), v.Reason))
			continue
		}
		sc, err := c.script(w, j, s)
		if err != nil {
			continue
		}
		if v := sc.FailsWithout(gs); !v.OK {
			reasons = append(reasons, fmt.Sprintf("the check in step %q %s", s.Label(), v.Reason))
			continue
		}
		if ok, why := c.stepGates(w, j, s, action.step); !ok {
			reasons = append(reasons, why)
			continue
		}
		return true, ""
	}
	return false, strings.Join(reasons, "; ")
}

func checkDeployScope(c *Context) []Finding {
	const name = "deploy-scope"
	var out []Finding
	for _, w := range c.Repo.Workflows {
		for _, j := range w.Jobs {
			for _, s := range c.flow(j) {
				if deployAction(s) {
					out = append(out, finding(name, c.stepPath(w, s), s.UsesLine, j.ID, "step %q changes the cluster through the action %s: a deploy only applies its overlay (kubectl apply -k, with the deployer's selector), where the rules can see what it applies", s.Label(), s.Action()))
				}
			}
			cmds := c.commands(w, j)
			if reachesCluster(cmds) {
				for _, cm := range cmds {
					for _, why := range append(outsideKubectl(cm.cmd), kubectlElsewhere(cm.cmd, c.Cfg)...) {
						c.atCommand(&out, name, w, j, cm, true)("%s", why)
					}
				}
			}
			for _, cm := range cmds {
				if !deploys(cm.cmd) {
					continue
				}
				if !kubectlApply(cm.cmd) {
					c.atCommand(&out, name, w, j, cm, false)("changes the cluster with `%s`: a deploy only applies its overlay (kubectl apply -k, with the deployer's selector)", cm.cmd.Text)
					continue
				}
				for _, p := range append(c.applyProblems(j, cm.cmd), outsideCheckout(w, j, cm, cmds, "its overlay")...) {
					c.atCommand(&out, name, w, j, cm, true)("%s", p)
				}
			}
		}
	}
	return out
}

// applyProblems lists why a kubectl apply applies more than the deployer's objects of the
// job's environment overlay.
func (c *Context) applyProblems(j *pipeline.Job, cmd *shell.Command) []string {
	var p []string
	sel := append(cmd.Flag("--selector"), cmd.Flag("-l")...)
	switch {
	case len(sel) == 0:
		p = append(p, fmt.Sprintf("applies every object of what it is given, not only the deployer's (--selector %s)", c.Cfg.DeployerSelector))
	case len(sel) > 1 || sel[0].Text != c.Cfg.DeployerSelector:
		var got []string
		for _, s := range sel {
			got = append(got, s.Text)
		}
		p = append(p, fmt.Sprintf("selects %q, not the deployer's objects (%s)", strings.Join(got, " "), c.Cfg.DeployerSelector))
	}
	want := ""
	if j.Environment != "" && !strings.Contains(j.Environment, "${{") {
		want = path.Join(c.Cfg.Overlays, j.Environment)
	}
	var sources []string
	for _, k := range cmd.Flag("-k", "--kustomize") {
		sources = append(sources, k.Text)
	}
	for _, f := range cmd.Flag("-f", "--filename") {
		if f.Text == "-" && cmd.PipedFrom != nil {
			if dir := kustomizeBuildDir(cmd.PipedFrom); dir != "" {
				sources = append(sources, dir)
				p = append(p, kustomizeWidened(cmd.PipedFrom)...)
				continue
			}
		}
		p = append(p, fmt.Sprintf("applies the files %q rather than the environment's overlay", f.Text))
	}
	for _, s := range sources {
		s = strings.TrimSuffix(path.Clean(s), "/")
		switch {
		case want == "":
			p = append(p, fmt.Sprintf("applies %q from a job with no literal environment", s))
		case s != want:
			p = append(p, fmt.Sprintf("applies %q, not the overlay of its environment %q (%s)", s, j.Environment, want))
		}
	}
	if len(sources) == 0 && len(cmd.Flag("-f", "--filename")) == 0 {
		p = append(p, "applies no overlay (-k)")
	}
	if cmd.Has("--force") {
		p = append(p, "passes --force, which deletes and recreates what it cannot patch")
	}
	if cmd.Has("--prune", "--prune-allowlist", "--prune-whitelist", "--applyset") {
		p = append(p, "prunes: it deletes every object of the selector that the overlay does not hold")
	}
	return p
}

// workspaceDirs are the spellings of the checkout's root, where a step starts.
var workspaceDirs = map[string]bool{"": true, ".": true, "./": true, "${{ github.workspace }}": true, "${{github.workspace}}": true,
	"$GITHUB_WORKSPACE": true, "${GITHUB_WORKSPACE}": true}

// outsideCheckout says why a command that reads the reviewed checkout (what, by a relative
// path) would read it elsewhere: the step runs in another working-directory (its own, or the
// job's or workflow's defaults.run), or its script changes directory before it. Under
// $RUNNER_TEMP, where a deploy or apply job may write, files of the same paths would be used
// unreviewed.
func outsideCheckout(w *pipeline.Workflow, j *pipeline.Job, apply command, cmds []command, what string) []string {
	var out []string
	for _, dir := range []struct{ value, where string }{{apply.step.WorkingDir, "the step's"}, {j.WorkingDir, "the job's default"}, {w.WorkingDir, "the workflow's default"}} {
		if !workspaceDirs[strings.TrimSpace(dir.value)] {
			out = append(out, fmt.Sprintf("runs in %s working-directory %s: %s is read from there, not from the reviewed checkout", dir.where, dir.value, what))
			break
		}
		if dir.value != "" {
			break // the nearest setting is the checkout's root
		}
	}
	if dir, how := scriptDir(apply, cmds); dir != "" {
		out = append(out, fmt.Sprintf("runs in %s (after `%s`): %s is read from there, not from the reviewed checkout", dir, how, what))
	}
	return out
}

// scriptDir follows the cd, pushd and popd of the apply's script before it, from the checkout's
// root, and returns the directory the apply runs in ("" for the root) and the command that
// took it there.
func scriptDir(apply command, cmds []command) (dir, how string) {
	var prev string
	var stack []string
	for _, cm := range cmds {
		if cm.step != apply.step || cm.cmd == apply.cmd || cm.cmd.Line > apply.cmd.Line {
			continue
		}
		arg := ""
		if len(cm.cmd.Args) > 0 {
			arg = cm.cmd.Args[len(cm.cmd.Args)-1].Text
		}
		to := func(a string) string {
			switch {
			case workspaceDirs[a]:
				return ""
			case a == "" || a == "~" || strings.HasPrefix(a, "/") || strings.HasPrefix(a, "$") || strings.HasPrefix(a, "~"):
				return cmp.Or(a, "~")
			}
			if d := path.Join(dir, a); d != "." {
				return d
			}
			return ""
		}
		switch base(cm.cmd.Name) {
		case "cd":
			if arg == "-" {
				dir, prev = prev, dir
			} else {
				dir, prev = to(arg), dir
			}
		case "pushd":
			stack = append(stack, dir)
			dir = to(arg)
		case "popd":
			if len(stack) > 0 {
				dir, stack = stack[len(stack)-1], stack[:len(stack)-1]
			}
		default:
			continue
		}
		how = cm.cmd.Text
	}
	return dir, how
}

// reachesCluster reports whether a job's commands talk to a cluster: they change one, or they
// set up kubectl's credentials for one.
func reachesCluster(cmds []command) bool {
	for _, cm := range cmds {
		if deploys(cm.cmd) {
			return true
		}
		if svc, op := awsCall(cm.cmd); svc == "eks" && (op == "update-kubeconfig" || op == "get-token") {
			return true
		}
	}
	return false
}

// networkClients send requests the rules cannot read the meaning of.
var networkClients = map[string]bool{
	"curl": true, "wget": true, "http": true, "https": true, "xh": true, "httpie": true, "nc": true, "ncat": true,
	"netcat": true, "socat": true, "grpcurl": true, "websocat": true, "telnet": true,
}

var awsValued = valued("--region", "--profile", "--output", "--query", "--endpoint-url", "--cli-read-timeout",
	"--cli-connect-timeout", "--ca-bundle", "--color", "--cli-binary-format")

// awsCall returns the service and operation of an aws CLI command.
func awsCall(c *shell.Command) (service, op string) {
	if base(c.Name) != "aws" {
		return "", ""
	}
	ops := c.Operands(awsValued)
	if len(ops) < 2 {
		return "", ""
	}
	return ops[0].Text, ops[1].Text
}

// outsideKubectl says why a command of a job that reaches a cluster goes around kubectl, whose
// commands the rules judge: a raw cluster token, a request the rules cannot read, or a change to
// the cloud. A deploy reads from the cloud (describe, list, get) and logs in to the registry; the
// kubeconfig it writes reaches the cluster as the role the job assumed, no other.
func outsideKubectl(c *shell.Command) []string {
	if networkClients[base(c.Name)] {
		return []string{"sends a request from a job that reaches the cluster: the cluster is reached through kubectl only, whose commands the rules judge (an API server token in a header would go around them)"}
	}
	svc, op := awsCall(c)
	switch {
	case svc == "":
		return nil // not an aws call
	case svc == "eks" && op == "get-token":
		return []string{"mints a cluster token for a client other than kubectl: the cluster is reached through kubectl only"}
	case svc == "eks" && op == "update-kubeconfig":
		if c.Has("--role-arn", "--assume-role-arn") {
			return []string{"writes a kubeconfig that assumes another role for every kubectl call: a deploy reaches the cluster as the role the job assumed"}
		}
		return nil
	case svc == "ecr" && op == "get-login-password", svc == "sts" && op == "get-caller-identity",
		strings.HasPrefix(op, "describe-"), strings.HasPrefix(op, "list-"), strings.HasPrefix(op, "get-"):
		return nil
	}
	return []string{fmt.Sprintf("calls aws %s %s from a job that deploys: a deploy reads from the cloud (describe, list, get) and changes only the overlay it applies", svc, op)}
}

// kubectlElsewhereFlags are kubectl's global flags that change whom kubectl acts as or which
// cluster it talks to, and why each is refused in a job that reaches a cluster.
var kubectlElsewhereFlags = []struct {
	flags []string
	why   string
}{
	{[]string{"--as", "--as-group", "--as-uid"}, "impersonates another identity: the deployer acts only as itself, with the rights RBAC gives it"},
	{[]string{"--token", "--username", "--password", "--client-certificate", "--client-key", "--user"},
		"authenticates with other credentials than the role the job assumed"},
	{[]string{"--kubeconfig", "--context", "--cluster", "--server", "-s", "--certificate-authority", "--insecure-skip-tls-verify", "--tls-server-name"},
		"points kubectl at another cluster, or trusts another certificate, than the kubeconfig aws eks update-kubeconfig wrote"},
}

// kubectlElsewhere says why a kubectl command acts as someone else or on another cluster, or
// (kubectl apply) writes other than its overlay states: into another namespace than the
// application's, taking over fields another field manager owns, or as a field manager other
// than the deployer.
func kubectlElsewhere(c *shell.Command, cfg Config) []string {
	if base(c.Name) != "kubectl" {
		return nil
	}
	// pflag also takes a shorthand's value attached: -shttps://... and -nkube-system.
	attached := func(short string) []shell.Word {
		var out []shell.Word
		for _, a := range c.Args {
			if v, ok := strings.CutPrefix(a.Text, short); ok && v != "" && !strings.HasPrefix(v, "=") && !strings.HasPrefix(a.Text, "--") {
				out = append(out, shell.Word{Text: v, Known: a.Known})
			}
		}
		return out
	}
	var out []string
	for _, f := range kubectlElsewhereFlags {
		if c.Has(f.flags...) || len(attached("-s")) > 0 && slices.Contains(f.flags, "-s") {
			out = append(out, fmt.Sprintf("%s %s", strings.Join(f.flags, "/"), f.why))
		}
	}
	if ops := c.Operands(kubectlValued); len(ops) == 0 || ops[0].Text != "apply" {
		return out
	}
	for _, ns := range append(c.Flag("-n", "--namespace"), attached("-n")...) {
		if ns.Text != cfg.AppNamespace {
			out = append(out, fmt.Sprintf("-n/--namespace %s applies into another namespace than the application's (%s)", ns.Text, cfg.AppNamespace))
		}
	}
	if c.Has("--force-conflicts") {
		out = append(out, "--force-conflicts takes over fields another field manager owns (an administrator's, the autoscaler's) instead of failing on the conflict")
	}
	_, deployer, _ := strings.Cut(cfg.DeployerSelector, "=")
	for _, m := range c.Flag("--field-manager") {
		if m.Text != deployer {
			out = append(out, fmt.Sprintf("--field-manager %s writes as another field manager than the deployer (%s), so its changes pass for another writer's", m.Text, deployer))
		}
	}
	return out
}

// kustomizeValued are the flags of `kustomize build` and `kubectl kustomize` that take a value.
var kustomizeValued = valued("--load-restrictor", "--helm-command", "--helm-api-versions", "--helm-kube-version",
	"--mount", "--network-name", "-e", "--env", "-o", "--output", "--reorder", "--stack-trace")

// kustomizeWidened lists why a `kustomize build` (or `kubectl kustomize`) renders more than the
// overlay's reviewed files: files outside its folder, charts fetched at build time, programs it
// runs. Each of these reads or runs what no review saw, in the job that holds the cluster's
// credentials.
func kustomizeWidened(cmd *shell.Command) []string {
	var p []string
	for _, r := range cmd.Flag("--load-restrictor") {
		if r.Text != "LoadRestrictionsRootOnly" {
			p = append(p, fmt.Sprintf("builds the overlay with --load-restrictor %s, which reads files outside its folder (anywhere the job may write)", r.Text))
		}
	}
	widen := []struct{ flag, why string }{
		{"--enable-helm", "fetches Helm charts at build time, content no review saw"},
		{"--helm-command", "runs a Helm binary of its choice"},
		{"--enable-alpha-plugins", "runs the overlay's plugins (programs and containers)"},
		{"--enable-exec", "runs programs named by the overlay"},
		{"--mount", "mounts host paths into the overlay's function containers"},
		{"--network", "gives the overlay's function containers the network"},
	}
	for _, w := range widen {
		if cmd.Has(w.flag) && !cmd.Has(w.flag+"=false") {
			p = append(p, fmt.Sprintf("builds the overlay with %s, which %s", w.flag, w.why))
		}
	}
	return p
}

// kustomizeBuildDir returns DIR for `kustomize build DIR` or `kubectl kustomize DIR`.
func kustomizeBuildDir(cmd *shell.Command) string {
	ops := cmd.Operands(kustomizeValued)
	switch {
	case base(cmd.Name) == "kustomize" && len(ops) == 2 && ops[0].Text == "build":
		return ops[1].Text
	case base(cmd.Name) == "kubectl" && len(ops) == 2 && ops[0].Text == "kustomize":
		return ops[1].Text
	}
	return ""
}

var literalEnv = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

func checkDeployEnvironment(c *Context) []Finding {
	const name = "deploy-environment"
	var out []Finding
	for _, w := range c.Repo.Workflows {
		for _, j := range w.Jobs {
			var first *command
			var applies []command
			for _, cm := range c.commands(w, j) {
				if deploys(cm.cmd) || terraformChanges(cm.cmd) {
					if first == nil {
						cm := cm
						first = &cm
					}
				}
				if kubectlApply(cm.cmd) {
					applies = append(applies, cm)
				}
			}
			if first == nil {
				continue
			}
			switch {
			case j.Environment == "":
				out = append(out, finding(name, w.Path, j.Line, j.ID, "changes infrastructure (step %q: `%s`) outside a GitHub environment: no required reviewers, no environment-scoped role", first.step.Label(), first.cmd.Text))
			case !literalEnv.MatchString(j.Environment):
				out = append(out, finding(name, w.Path, j.EnvLine, j.ID, "runs in environment %q, chosen at run time: the run, not the workflow, decides which protection applies", j.Environment))
			}
			for _, a := range applies {
				waited := false
				for _, cm := range c.commands(w, j) {
					if base(cm.cmd.Name) != "kubectl" || cm.step.Index < a.step.Index {
						continue
					}
					if sub, i := cm.cmd.Subcommand(kubectlValued); sub == "rollout" && i+1 < len(cm.cmd.Args) && cm.cmd.Args[i+1].Text == "status" {
						waited = true
					}
					if sub, _ := cm.cmd.Subcommand(kubectlValued); sub == "wait" {
						waited = true
					}
				}
				if !waited {
					out = append(out, finding(name, c.stepPath(w, a.step), a.step.ScriptLine+a.cmd.Line-1, j.ID, "applies to the cluster but never waits for `kubectl rollout status`: a broken rollout would pass"))
				}
			}
		}
	}
	return out
}

func checkTrustedRuns(c *Context) []Finding {
	const name = "trusted-runs"
	var out []Finding
	c.eachJob(func(w *pipeline.Workflow, j *pipeline.Job) {
		what := c.powerful(w, j)
		if what == "" && j.Environment != "" {
			what = fmt.Sprintf("uses environment %q", j.Environment)
		}
		if what == "" {
			return
		}
		for _, sc := range c.scenarios(w) {
			if sc.Trusted {
				continue
			}
			if t := c.jobTruth(w, sc, "")[j.ID]; t != cond.False {
				why := "if: " + j.If
				if j.If == "" {
					why = "no if: of its own"
					if len(j.Needs) > 0 {
						why += ", and the jobs it needs run there too"
					}
				}
				out = append(out, finding(name, w.Path, j.Line, j.ID, "%s and can run on a %s (%s)", what, sc.Name, why))
				break
			}
		}
	})
	return out
}

func checkDeployOrder(c *Context) []Finding {
	const name = "deploy-order"
	var out []Finding
	for _, w := range c.Repo.Workflows {
		kind := func(j *pipeline.Job) string {
			k := ""
			for _, cm := range c.commands(w, j) {
				switch {
				case deploys(cm.cmd):
					k = "deploys"
				case terraformChanges(cm.cmd) && k == "":
					k = "applies"
				}
			}
			return k
		}
		for _, prod := range w.Jobs {
			if prod.Environment != "production" || kind(prod) == "" {
				continue
			}
			var staging *pipeline.Job
			for _, j := range w.Jobs {
				if j.Environment == "staging" && kind(j) == kind(prod) {
					staging = j
				}
			}
			switch {
			case staging == nil:
				out = append(out, finding(name, w.Path, prod.Line, prod.ID, "%s to production with no staging job in this workflow that does the same first", kind(prod)))
			case !needsTransitively(w, prod, staging.ID):
				out = append(out, finding(name, w.Path, prod.Line, prod.ID, "%s to production without waiting for job %s (staging): add it to needs", kind(prod), staging.ID))
			default:
				if ok, why := c.jobGates(w, staging, prod); !ok {
					out = append(out, finding(name, w.Path, prod.Line, prod.ID, "%s to production even when staging does not succeed: %s", kind(prod), why))
				}
			}
		}
	}
	return out
}
