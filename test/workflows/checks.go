package workflows

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Finding is one rule broken at one place.
type Finding struct {
	Check   string
	Path    string
	Line    int
	Job     string
	Message string
}

func (f Finding) String() string {
	where := f.Path
	if f.Line > 0 {
		where = fmt.Sprintf("%s:%d", f.Path, f.Line)
	}
	if f.Job != "" {
		return fmt.Sprintf("%s: [%s] job %s: %s", where, f.Check, f.Job, f.Message)
	}
	return fmt.Sprintf("%s: [%s] %s", where, f.Check, f.Message)
}

// Check is one rule a reviewer would hold every workflow to.
type Check struct {
	Name string
	Rule string
	Run  func(*Workflow) []Finding
}

// Checks returns every rule, in the order they are reported.
func Checks() []Check {
	return []Check{
		{"pinned-actions", "every action and reusable workflow is pinned to a full 40-hex commit SHA with its version in a `# vX.Y.Z` comment; docker:// images by digest", checkPinnedActions},
		{"pinned-images", "container and service images, the BuildKit image and the SBOM generator are pinned by digest", checkPinnedImages},
		{"permissions", "top-level permissions are {} or read-only; every job declares its own, and each write scope is one its steps need", checkPermissions},
		{"checkout-credentials", "actions/checkout never leaves the token in .git/config (persist-credentials: false)", checkCheckoutCredentials},
		{"no-pull-request-target", "no workflow runs on pull_request_target (untrusted code with a privileged token)", checkNoPullRequestTarget},
		{"no-expressions-in-run", "no ${{ }} expression is pasted into a run: script; values reach scripts through env:", checkNoExpressionsInRun},
		{"timeouts", "every job sets timeout-minutes", checkTimeouts},
		{"concurrency", "the workflow (or every job) sets a concurrency group", checkConcurrency},
		{"scan-before-push", "a job that pushes an image runs a Trivy image scan before the first push, pinned to a Trivy version, failing the job on HIGH and CRITICAL findings, unconditionally", checkScanBeforePush},
		{"digest-references", "cosign sign/attest/verify and `kustomize edit set image` name the image by digest, never by tag", checkDigestReferences},
		{"keyless-signing", "cosign signs keyless (no --key, no password) from a job granted id-token: write", checkKeylessSigning},
		{"verify-before-deploy", "a job that deploys runs `cosign verify` pinned to this repository's build workflow identity and GitHub's OIDC issuer before it applies anything", checkVerifyBeforeDeploy},
		{"deploy-environment", "a job that applies (kubectl or terraform) runs in a GitHub environment, and a kubectl apply is followed by a rollout wait", checkDeployEnvironment},
		{"no-static-cloud-credentials", "AWS access comes from an OIDC role (role-to-assume), never from stored access keys", checkNoStaticCloudCredentials},
	}
}

// Run applies every check to a workflow.
func Run(w *Workflow) []Finding {
	var out []Finding
	for _, c := range Checks() {
		out = append(out, c.Run(w)...)
	}
	return out
}

func finding(check string, w *Workflow, line int, job, format string, args ...any) Finding {
	return Finding{Check: check, Path: w.Path, Line: line, Job: job, Message: fmt.Sprintf(format, args...)}
}

var (
	fullSHA        = regexp.MustCompile(`^[0-9a-f]{40}$`)
	versionComment = regexp.MustCompile(`^v?\d+\.\d+\.\d+\b`)
	imageDigest    = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)
)

func checkPinnedActions(w *Workflow) []Finding {
	const name = "pinned-actions"
	var out []Finding
	check := func(job string, line int, uses, comment string) {
		switch {
		case uses == "" || strings.HasPrefix(uses, "./"):
			return
		case strings.HasPrefix(uses, "docker://"):
			if !imageDigest.MatchString(uses) {
				out = append(out, finding(name, w, line, job, "%s is not pinned by digest (@sha256:...)", uses))
			}
			return
		}
		action, ref, ok := strings.Cut(uses, "@")
		if !ok || !fullSHA.MatchString(ref) {
			out = append(out, finding(name, w, line, job, "%s is not pinned to a full 40-hex commit SHA (a tag or branch can be moved under you, as the trivy-action tags were in March 2026)", uses))
			return
		}
		if !versionComment.MatchString(comment) {
			out = append(out, finding(name, w, line, job, "%s@%s has no version comment (# vX.Y.Z) saying which release the SHA is", action, ref[:12]))
		}
	}
	for _, j := range w.Jobs {
		check(j.ID, j.Line, j.Uses, "")
		for _, s := range j.Steps {
			check(j.ID, s.UsesLine, s.Uses, s.UsesComment)
		}
	}
	return out
}

func checkPinnedImages(w *Workflow) []Finding {
	const name = "pinned-images"
	var out []Finding
	for _, j := range w.Jobs {
		for _, what := range slices.Sorted(maps.Keys(j.Images)) {
			if img := j.Images[what]; !imageDigest.MatchString(img) {
				out = append(out, finding(name, w, j.Line, j.ID, "%s image %q is not pinned by digest (@sha256:...)", what, img))
			}
		}
		for _, s := range j.Steps {
			switch s.Action() {
			case "docker/setup-buildx-action":
				img := optValue(s.With["driver-opts"], "image")
				if s.With["driver"] != "docker" && !imageDigest.MatchString(img) {
					out = append(out, finding(name, w, s.UsesLine, j.ID, "setup-buildx runs BuildKit from %q: pin it with driver-opts: image=moby/buildkit:vX@sha256:...", orDefault(img, "its default moby/buildkit tag")))
				}
			case "docker/build-push-action":
				sbom := s.With["sbom"]
				if sbom == "" || sbom == "false" {
					continue
				}
				if gen := optValue(sbom, "generator"); !imageDigest.MatchString(gen) {
					out = append(out, finding(name, w, s.UsesLine, j.ID, "the SBOM is generated by %q: pin it with sbom: generator=docker/buildkit-syft-scanner:X@sha256:...", orDefault(gen, "BuildKit's default scanner tag")))
				}
			}
		}
	}
	return out
}

// optValue reads key=value out of a comma- or newline-separated option list.
func optValue(opts, key string) string {
	for _, f := range strings.FieldsFunc(opts, func(r rune) bool { return r == ',' || r == '\n' }) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(f), key+"="); ok {
			return v
		}
	}
	return ""
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// writeNeeded says whether a write scope is one the pipeline ever needs (known) and whether a
// step of this job needs it.
func writeNeeded(scope string, j Job) (known, needed bool) {
	switch scope {
	case "id-token": // GitHub OIDC: assume an AWS role, or sign keyless
		return true, j.uses("aws-actions/configure-aws-credentials") || j.runs(cosignCmd, "sign", "attest")
	case "security-events": // upload SARIF to code scanning
		return true, j.uses("github/codeql-action/upload-sarif")
	default:
		return false, false
	}
}

func checkPermissions(w *Workflow) []Finding {
	const name = "permissions"
	var out []Finding
	switch p := w.Permissions; {
	case p == nil:
		out = append(out, finding(name, w, 0, "", "no top-level permissions: declare `permissions: {}` so that no job inherits the default token scopes"))
	case p.Shorthand != "" && p.Shorthand != "read-all":
		out = append(out, finding(name, w, p.Line, "", "top-level permissions %q: use {} and grant each job what it needs", p.Shorthand))
	case len(p.Writes()) > 0:
		out = append(out, finding(name, w, p.Line, "", "top-level permissions grant write to %s: every job would inherit it; grant it in the one job that needs it", strings.Join(p.Writes(), ", ")))
	}
	for _, j := range w.Jobs {
		if j.Uses != "" {
			continue
		}
		if j.Permissions == nil {
			out = append(out, finding(name, w, j.Line, j.ID, "no permissions block: declare what this job needs (contents: read at least)"))
			continue
		}
		if j.Permissions.Shorthand != "" && j.Permissions.Shorthand != "read-all" {
			out = append(out, finding(name, w, j.Permissions.Line, j.ID, "permissions %q: list the scopes this job needs", j.Permissions.Shorthand))
			continue
		}
		for _, scope := range j.Permissions.Writes() {
			switch known, needed := writeNeeded(scope, j); {
			case !known:
				out = append(out, finding(name, w, j.Permissions.Line, j.ID, "grants %s: write, which no step of this pipeline needs", scope))
			case !needed:
				out = append(out, finding(name, w, j.Permissions.Line, j.ID, "grants %s: write but no step of the job uses it", scope))
			}
		}
	}
	return out
}

func checkCheckoutCredentials(w *Workflow) []Finding {
	var out []Finding
	for _, j := range w.Jobs {
		for _, s := range j.Steps {
			if s.Action() == "actions/checkout" && s.With["persist-credentials"] != "false" {
				out = append(out, finding("checkout-credentials", w, s.UsesLine, j.ID, "step %q checks out without persist-credentials: false, leaving the token in .git/config for every later step", s.Label()))
			}
		}
	}
	return out
}

func checkNoPullRequestTarget(w *Workflow) []Finding {
	if slices.Contains(w.Triggers, "pull_request_target") {
		return []Finding{finding("no-pull-request-target", w, 0, "", "runs on pull_request_target: a fork's code would run with this repository's token and secrets")}
	}
	return nil
}

var (
	expression        = regexp.MustCompile(`\$\{\{[^}]*\}\}`)
	untrustedContexts = regexp.MustCompile(`\b(github\.event|github\.head_ref|inputs\.|steps\.|needs\.|matrix\.|vars\.)`)
)

func checkNoExpressionsInRun(w *Workflow) []Finding {
	var out []Finding
	for _, j := range w.Jobs {
		for _, s := range j.Steps {
			for _, e := range expression.FindAllString(s.Run, -1) {
				kind := "an expression"
				if untrustedContexts.MatchString(e) {
					kind = "data an outsider or an earlier step controls"
				}
				out = append(out, finding("no-expressions-in-run", w, s.RunLine, j.ID, "step %q pastes %s into its script: %s; pass it through env: and quote \"$VAR\"", s.Label(), kind, e))
			}
		}
	}
	return out
}

var positiveInt = regexp.MustCompile(`^[1-9][0-9]*$`)

func checkTimeouts(w *Workflow) []Finding {
	var out []Finding
	for _, j := range w.Jobs {
		if j.Uses != "" {
			continue
		}
		if !positiveInt.MatchString(j.TimeoutMinutes) {
			out = append(out, finding("timeouts", w, j.Line, j.ID, "no timeout-minutes (a hung job holds a runner, and its token, for 6 hours)"))
		}
	}
	return out
}

func checkConcurrency(w *Workflow) []Finding {
	if w.Concurrency != "" {
		return nil
	}
	var out []Finding
	for _, j := range w.Jobs {
		if j.Concurrency == "" {
			out = append(out, finding("concurrency", w, j.Line, j.ID, "no concurrency group on the workflow or the job: two runs can race on the same target"))
		}
	}
	return out
}

// pushes reports whether a step publishes an image to a registry.
var pushCommand = regexp.MustCompile(`\b(docker\s+(image\s+)?push|buildx\s+build\b[^\n]*--push|crane\s+(push|copy|cp)|skopeo\s+copy|regctl\s+image\s+copy|oras\s+push)\b`)

func (s Step) pushes() bool {
	if s.Action() == "docker/build-push-action" {
		p := s.With["push"]
		return p != "" && p != "false"
	}
	return pushCommand.MatchString(s.Run)
}

var trivyImageRun = regexp.MustCompile(`\btrivy\s+(image|i)\b`)

func (s Step) trivyImageScan() bool {
	if s.Action() == "aquasecurity/trivy-action" {
		t := s.With["scan-type"]
		return t == "" || t == "image"
	}
	return trivyImageRun.MatchString(s.Run)
}

func checkScanBeforePush(w *Workflow) []Finding {
	const name = "scan-before-push"
	var out []Finding
	for _, j := range w.Jobs {
		first := slices.IndexFunc(j.Steps, Step.pushes)
		if first < 0 {
			continue
		}
		push := j.Steps[first]
		scan := slices.IndexFunc(j.Steps[:first], Step.trivyImageScan)
		if scan < 0 {
			out = append(out, finding(name, w, push.Line, j.ID, "step %q pushes an image but no Trivy image scan runs before it in this job", push.Label()))
			continue
		}
		s := j.Steps[scan]
		for _, problem := range scanProblems(s) {
			out = append(out, finding(name, w, s.Line, j.ID, "scan step %q %s", s.Label(), problem))
		}
	}
	return out
}

// scanProblems lists why a scan step would let a vulnerable image through.
func scanProblems(s Step) []string {
	var p []string
	severity, exitCode, version := s.With["severity"], s.With["exit-code"], s.With["version"]
	if s.Action() == "" { // a run: step calling trivy itself
		severity = flagValue(s.Run, "--severity")
		exitCode = flagValue(s.Run, "--exit-code")
		version = "pinned by the step that installs it"
	}
	if exitCode == "" || exitCode == "0" {
		p = append(p, fmt.Sprintf("does not fail the job on findings (exit-code %q)", exitCode))
	}
	sev := strings.Split(strings.ToUpper(severity), ",")
	for _, want := range []string{"HIGH", "CRITICAL"} {
		if severity != "" && !slices.Contains(sev, want) {
			p = append(p, fmt.Sprintf("ignores %s vulnerabilities (severity %q)", want, severity))
		}
	}
	if severity == "" {
		p = append(p, "sets no severity: say HIGH,CRITICAL so that the gate is explicit")
	}
	if version == "" || version == "latest" {
		p = append(p, "does not pin the Trivy binary (version: vX.Y.Z); `latest` fetched the compromised v0.69.4 in March 2026")
	}
	if s.ContinueOnError != "" && s.ContinueOnError != "false" {
		p = append(p, "has continue-on-error, so its failure does not stop the push")
	}
	if s.If != "" {
		p = append(p, fmt.Sprintf("runs only if %q, so the push can happen unscanned", s.If))
	}
	return p
}

// flagValue finds `flag value` or `flag=value` in a script.
func flagValue(script, flag string) string {
	re := regexp.MustCompile(regexp.QuoteMeta(flag) + `[=\s]+["']?([^"'\s]+)`)
	if m := re.FindStringSubmatch(script); m != nil {
		return m[1]
	}
	return ""
}

// Commands in run: scripts, split into words (continuations joined, quotes removed).
var (
	cosignCmd    = command{"cosign"}
	kustomizeCmd = command{"kustomize", "edit", "set"}
	kubectlCmd   = command{"kubectl"}
	terraformCmd = command{"terraform"}
	helmCmd      = command{"helm"}
)

type command []string

// find returns the argument lists of every invocation of c whose subcommand is one of subs
// (any subcommand when subs is empty): the subcommand first, then its arguments. Flags placed
// between the command and its subcommand (kubectl -n ns apply) are skipped.
func (c command) find(script string, subs ...string) [][]string {
	var out [][]string
	for _, words := range shellCommands(script) {
		for i := 0; i+len(c) <= len(words); i++ {
			if !slices.Equal(words[i:i+len(c)], c) {
				continue
			}
			rest := words[i+len(c):]
			for len(rest) > 0 && strings.HasPrefix(rest[0], "-") {
				if strings.Contains(rest[0], "=") || len(rest) == 1 {
					rest = rest[1:]
				} else {
					rest = rest[2:]
				}
			}
			if len(rest) == 0 {
				continue
			}
			if len(subs) == 0 || slices.Contains(subs, rest[0]) {
				out = append(out, rest)
			}
		}
	}
	return out
}

// shellCommands splits a script into simple commands, each a list of words: line continuations
// are joined, comments dropped, quotes removed (no expansion), and unquoted ;, &&, || and |
// end a command.
func shellCommands(script string) [][]string {
	var out [][]string
	for _, line := range strings.Split(strings.ReplaceAll(script, "\\\n", " "), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var (
			words    []string
			cur      strings.Builder
			quote    rune
			in       bool
			redirect bool // the next word is a redirection target, not an argument
		)
		word := func() {
			if in {
				if redirect {
					redirect = false
				} else {
					words = append(words, cur.String())
				}
				cur.Reset()
				in = false
			}
		}
		end := func() {
			word()
			if len(words) > 0 {
				out = append(out, words)
			}
			words, redirect = nil, false
		}
		runes := []rune(line)
	scan:
		for i := 0; i < len(runes); i++ {
			r := runes[i]
			switch {
			case r == '#' && quote == 0 && !in:
				break scan // an unquoted # starting a word comments out the rest of the line
			case quote != 0:
				if r == quote {
					quote = 0
				} else {
					cur.WriteRune(r)
				}
			case r == '"' || r == '\'':
				quote, in = r, true
			case r == ' ' || r == '\t':
				word()
			case r == '>' || r == '<':
				if in && isDigits(cur.String()) { // 2>file: the fd number is not an argument
					cur.Reset()
					in = false
				}
				word()
				if i+1 < len(runes) && runes[i+1] == '&' { // >&2, 2>&1
					i++
				}
				redirect = true
			case r == ';' || r == '&' || r == '|':
				end()
			default:
				cur.WriteRune(r)
				in = true
			}
		}
		end()
	}
	return out
}

func (j Job) uses(action string) bool {
	return slices.ContainsFunc(j.Steps, func(s Step) bool { return s.Action() == action })
}

func (j Job) runs(c command, subs ...string) bool {
	return slices.ContainsFunc(j.Steps, func(s Step) bool { return len(c.find(s.Run, subs...)) > 0 })
}

// digestRef accepts image@sha256:<64 hex>, image@$DIGEST / image@${...DIGEST...}, or a digest
// output pasted in with an expression (which no-expressions-in-run refuses on its own).
var digestRef = regexp.MustCompile(`@(sha256:[0-9a-f]{64}|\$\{?[A-Za-z_]*DIGEST[A-Za-z_]*\}?|\$\{\{[^}]*digest[^}]*\}\})$`)

func checkDigestReferences(w *Workflow) []Finding {
	const name = "digest-references"
	var out []Finding
	for _, j := range w.Jobs {
		for _, s := range j.Steps {
			for _, args := range cosignCmd.find(s.Run, "sign", "attest", "verify", "verify-attestation") {
				ref := lastOperand(args[1:])
				if !digestRef.MatchString(ref) {
					out = append(out, finding(name, w, s.RunLine, j.ID, "`cosign %s` names %q, not a digest: a tag can point elsewhere tomorrow; use image@sha256:... (the pushed digest)", args[0], ref))
				}
			}
			for _, args := range kustomizeCmd.find(s.Run, "image") {
				for _, a := range args[1:] {
					if _, newRef, ok := strings.Cut(a, "="); ok && !digestRef.MatchString(newRef) {
						out = append(out, finding(name, w, s.RunLine, j.ID, "`kustomize edit set image %s` sets a tag, not a digest", a))
					}
				}
			}
		}
	}
	return out
}

// lastOperand is the last word that is not a flag (cosign takes the image last).
func lastOperand(args []string) string {
	for i := len(args) - 1; i >= 0; i-- {
		if !strings.HasPrefix(args[i], "-") {
			return args[i]
		}
	}
	return ""
}

func checkKeylessSigning(w *Workflow) []Finding {
	const name = "keyless-signing"
	var out []Finding
	for _, j := range w.Jobs {
		for _, s := range j.Steps {
			for _, args := range cosignCmd.find(s.Run, "sign", "attest") {
				for _, a := range args[1:] {
					if a == "--key" || strings.HasPrefix(a, "--key=") {
						out = append(out, finding(name, w, s.RunLine, j.ID, "`cosign %s` uses a key (%s): sign keyless with the workflow's OIDC identity, nothing to leak or rotate", args[0], strings.Join(args[1:], " ")))
						break
					}
				}
				if slices.ContainsFunc(args, func(a string) bool { return strings.Contains(a, "COSIGN_PASSWORD") }) {
					out = append(out, finding(name, w, s.RunLine, j.ID, "`cosign %s` passes COSIGN_PASSWORD on the command line", args[0]))
				}
				if j.Permissions == nil || j.Permissions.Scopes["id-token"] != "write" {
					out = append(out, finding(name, w, s.RunLine, j.ID, "`cosign %s` runs keyless but the job does not grant id-token: write", args[0]))
				}
			}
		}
	}
	return out
}

const githubOIDCIssuer = "https://token.actions.githubusercontent.com"

// deploys reports whether a step changes a cluster.
func (s Step) deploys() bool {
	return len(kubectlCmd.find(s.Run, "apply", "create", "replace", "patch", "set")) > 0 ||
		len(helmCmd.find(s.Run, "install", "upgrade")) > 0
}

// verifyProblems lists why a `cosign verify` would accept a signature it should not. Shell
// variables in flag values are expanded from vars where known.
func verifyProblems(args []string, vars map[string]string) []string {
	var p []string
	identity := expand(flagArg(args, "--certificate-identity"), vars)
	if identity == "" {
		identity = expand(flagArg(args, "--certificate-identity-regexp"), vars)
	}
	switch {
	case identity == "":
		p = append(p, "has no --certificate-identity, so any signer's certificate passes")
	case !strings.Contains(identity, "/.github/workflows/build-scan-sign.yaml@"):
		p = append(p, fmt.Sprintf("trusts identity %q, not this repository's build-scan-sign workflow", identity))
	}
	if issuer := expand(flagArg(args, "--certificate-oidc-issuer"), vars); issuer != githubOIDCIssuer {
		p = append(p, fmt.Sprintf("trusts OIDC issuer %q, not %s", issuer, githubOIDCIssuer))
	}
	return p
}

// flagArg returns the value of --flag value or --flag=value.
func flagArg(args []string, flag string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v
		}
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func checkVerifyBeforeDeploy(w *Workflow) []Finding {
	const name = "verify-before-deploy"
	var out []Finding
	for _, j := range w.Jobs {
		first := slices.IndexFunc(j.Steps, Step.deploys)
		if first < 0 {
			continue
		}
		verified := false
		for _, s := range j.Steps[:first] {
			for _, args := range cosignCmd.find(s.Run, "verify") {
				problems := verifyProblems(args, knownVars(w, j, s))
				for _, p := range problems {
					out = append(out, finding(name, w, s.RunLine, j.ID, "`cosign verify` in step %q %s", s.Label(), p))
				}
				verified = verified || len(problems) == 0
			}
		}
		if !verified {
			d := j.Steps[first]
			out = append(out, finding(name, w, d.Line, j.ID, "step %q deploys before a `cosign verify` of the image's signature (pinned identity and issuer) has passed in this job", d.Label()))
		}
	}
	return out
}

func checkDeployEnvironment(w *Workflow) []Finding {
	const name = "deploy-environment"
	var out []Finding
	for _, j := range w.Jobs {
		applies := slices.IndexFunc(j.Steps, func(s Step) bool {
			return s.deploys() || len(terraformCmd.find(s.Run, "apply")) > 0
		})
		if applies < 0 {
			continue
		}
		if j.Environment == "" {
			out = append(out, finding(name, w, j.Line, j.ID, "applies changes (step %q) outside a GitHub environment: no required reviewers, no environment-scoped role", j.Steps[applies].Label()))
		}
		kubectlApply := slices.IndexFunc(j.Steps, Step.deploys)
		if kubectlApply < 0 {
			continue
		}
		if !slices.ContainsFunc(j.Steps[kubectlApply:], func(s Step) bool { return len(kubectlCmd.find(s.Run, "rollout")) > 0 }) {
			out = append(out, finding(name, w, j.Steps[kubectlApply].Line, j.ID, "applies to the cluster but never waits for `kubectl rollout status`: a broken rollout would pass"))
		}
	}
	return out
}

var storedAWSKeys = regexp.MustCompile(`secrets\.AWS_(SECRET_)?ACCESS_KEY`)

func checkNoStaticCloudCredentials(w *Workflow) []Finding {
	const name = "no-static-cloud-credentials"
	var out []Finding
	scan := func(line int, job string, m map[string]string) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if v := m[k]; storedAWSKeys.MatchString(v) {
				out = append(out, finding(name, w, line, job, "%s reads stored AWS keys (%s): assume a role through GitHub OIDC instead", k, v))
			}
		}
	}
	scan(0, "", w.Env)
	for _, j := range w.Jobs {
		scan(j.Line, j.ID, j.Env)
		for _, s := range j.Steps {
			scan(s.Line, j.ID, s.Env)
			scan(s.Line, j.ID, s.With)
			if s.Action() != "aws-actions/configure-aws-credentials" {
				continue
			}
			if s.With["role-to-assume"] == "" {
				out = append(out, finding(name, w, s.UsesLine, j.ID, "configure-aws-credentials without role-to-assume: credentials must come from the OIDC role"))
			}
			for _, k := range []string{"aws-access-key-id", "aws-secret-access-key"} {
				if s.With[k] != "" {
					out = append(out, finding(name, w, s.UsesLine, j.ID, "configure-aws-credentials is given %s: no long-lived keys, use role-to-assume with id-token: write", k))
				}
			}
		}
	}
	return out
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

var (
	assignment = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)=(.*)$`)
	shellVar   = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)
)

// knownVars collects the variables a step's script can see with a literal value: env: of the
// workflow, job and step, and plain NAME=value assignments in the script itself.
func knownVars(w *Workflow, j Job, s Step) map[string]string {
	vars := map[string]string{}
	for _, env := range []map[string]string{w.Env, j.Env, s.Env} {
		for k, v := range env {
			vars[k] = v
		}
	}
	for _, words := range shellCommands(s.Run) {
		if len(words) == 1 {
			if m := assignment.FindStringSubmatch(words[0]); m != nil {
				vars[m[1]] = m[2]
			}
		}
	}
	return vars
}

// expand replaces $NAME and ${NAME} with known values, leaving unknown ones as they are.
func expand(word string, vars map[string]string) string {
	return shellVar.ReplaceAllStringFunc(word, func(ref string) string {
		name := shellVar.FindStringSubmatch(ref)[1]
		if v, ok := vars[name]; ok {
			return v
		}
		return ref
	})
}
