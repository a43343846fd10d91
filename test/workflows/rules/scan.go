package rules

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/platform-template/template-api/test/workflows/cond"
	"github.com/platform-template/template-api/test/workflows/pins"
	"github.com/platform-template/template-api/test/workflows/pipeline"
	"github.com/platform-template/template-api/test/workflows/shell"
)

// The scan family: Trivy scans that can fail, see everything, and look at the image that is
// then pushed.

// scan is one Trivy scan of a job.
type scan struct {
	step   *pipeline.Step
	cmd    *shell.Command // nil for trivy-action
	script *shell.Script
	kind   string // image, fs, config, ...
	target string // what it scans
	opts   map[string]string
}

// scans lists the Trivy scans of a job.
func (c *Context) scans(w *pipeline.Workflow, j *pipeline.Job) []scan {
	var out []scan
	for _, s := range c.flow(j) {
		if s.Action() == "aquasecurity/trivy-action" {
			kind := strings.TrimSpace(s.With["scan-type"])
			if kind == "" {
				kind = "image"
			}
			target := c.withValue(w, j, s, s.With["image-ref"])
			if kind != "image" {
				target = c.withValue(w, j, s, s.With["scan-ref"])
			}
			opts := map[string]string{}
			for k, v := range s.With {
				opts[k] = strings.TrimSpace(c.withValue(w, j, s, v))
			}
			out = append(out, scan{step: s, kind: kind, target: target, opts: opts})
			continue
		}
		sc := c.runScript(w, j, s)
		if sc == nil {
			continue
		}
		for _, cmd := range sc.Commands {
			kind := trivy(cmd)
			switch kind {
			case "image", "i":
				kind = "image"
			case "fs", "filesystem", "config", "conf", "repo", "repository", "rootfs", "sbom":
			default:
				continue
			}
			opts := map[string]string{}
			for _, f := range []struct{ flag, opt string }{
				{"--severity", "severity"}, {"-s", "severity"}, {"--exit-code", "exit-code"}, {"--scanners", "scanners"},
				{"--pkg-types", "vuln-type"}, {"--vuln-type", "vuln-type"}, {"--ignorefile", "trivyignores"},
				{"--skip-dirs", "skip-dirs"}, {"--skip-files", "skip-files"}, {"--ignore-policy", "ignore-policy"},
				{"--config", "trivy-config"}, {"-c", "trivy-config"}, {"--db-repository", "db-repository"},
				{"--vex", "vex"}, {"--ignore-status", "ignore-status"}, {"--input", "input"},
				{"--docker-host", "docker-host"}, {"--image-src", "image-src"}, {"--server", "server"},
			} {
				if v := cmd.Flag(f.flag); len(v) > 0 {
					opts[f.opt] = v[len(v)-1].Text
				}
			}
			if cmd.Has("--skip-db-update", "--skip-update") {
				opts["skip-db-update"] = "true"
			}
			target := ""
			if ops := cmd.Operands(trivyValued); len(ops) > 1 {
				target = ops[len(ops)-1].Text
			}
			out = append(out, scan{step: s, cmd: cmd, script: sc, kind: kind, target: target, opts: opts})
		}
	}
	return out
}

// runsNormally reports whether a step may run when nothing has failed (a step that only runs
// after a failure, like a report of the findings, is not a check).
func (c *Context) runsNormally(w *pipeline.Workflow, j *pipeline.Job, s *pipeline.Step) bool {
	for _, sc := range c.mayRun(w, j) {
		if c.stepTruth(s, sc, cond.Normal, nil) != cond.False {
			return true
		}
	}
	return false
}

// trivyEnvAllowed are the TRIVY_* variables that change nothing about what a scan finds.
var trivyEnvAllowed = map[string]bool{
	"TRIVY_CACHE_DIR": true, "TRIVY_DISABLE_VEX_NOTICE": true, "TRIVY_NO_PROGRESS": true, "TRIVY_QUIET": true,
	"TRIVY_TIMEOUT": true, "TRIVY_DEBUG": true, "TRIVY_USERNAME": true, "TRIVY_PASSWORD": true,
}

var defaultDBs = map[string]bool{
	"mirror.gcr.io/aquasec/trivy-db": true, "mirror.gcr.io/aquasec/trivy-db:2": true,
	"ghcr.io/aquasecurity/trivy-db": true, "ghcr.io/aquasecurity/trivy-db:2": true,
	"public.ecr.aws/aquasecurity/trivy-db": true, "public.ecr.aws/aquasecurity/trivy-db:2": true,
}

// scanProblems lists why a scan would let findings through.
func (c *Context) scanProblems(w *pipeline.Workflow, j *pipeline.Job, s scan) []string {
	var p []string
	o := s.opts
	if ec := o["exit-code"]; ec == "" || ec == "0" || strings.Contains(ec, "${{") {
		p = append(p, fmt.Sprintf("does not fail the job on findings (exit-code %q)", ec))
	}
	if sev := o["severity"]; sev != "" {
		have := strings.Split(strings.ToUpper(strings.ReplaceAll(sev, " ", "")), ",")
		for _, want := range []string{"HIGH", "CRITICAL"} {
			if !slices.Contains(have, want) {
				p = append(p, fmt.Sprintf("ignores %s findings (severity %q)", want, sev))
			}
		}
	}
	if sc := o["scanners"]; sc != "" {
		want := "vuln"
		if s.kind == "config" || s.kind == "conf" {
			want = "misconfig"
		}
		if !slices.Contains(splitList(strings.ToLower(sc)), want) {
			p = append(p, fmt.Sprintf("narrows its scanners to %q, without %s", sc, want))
		}
	}
	if vt := o["vuln-type"]; vt != "" && s.kind != "config" {
		have := splitList(strings.ToLower(vt))
		for _, want := range []string{"os", "library"} {
			if !slices.Contains(have, want) {
				p = append(p, fmt.Sprintf("skips %s packages (package types %q)", want, vt))
			}
		}
	}
	for _, k := range []string{"trivyignores", "ignore-policy", "skip-dirs", "skip-files", "trivy-config", "vex", "ignore-status"} {
		if v := o[k]; v != "" {
			p = append(p, fmt.Sprintf("sets %s %q, which drops findings or paths from the scan", k, v))
		}
	}
	if dh := o["docker-host"]; dh != "" {
		p = append(p, fmt.Sprintf("reads the image from another Docker daemon (docker-host %q), not the one the job built it into", dh))
	}
	if src := o["image-src"]; src != "" && !strings.HasPrefix(strings.TrimSpace(src), "docker") {
		p = append(p, fmt.Sprintf("looks for the image in %q before the job's Docker daemon (image-src): a registry's image of that name is not the one built", src))
	}
	if srv := o["server"]; srv != "" {
		p = append(p, fmt.Sprintf("takes its findings from a Trivy server (%s), which answers what it likes", srv))
	}
	if o["skip-setup-trivy"] == "true" {
		p = append(p, "skips installing Trivy (skip-setup-trivy), so it runs whatever trivy the runner has")
	}
	if o["skip-db-update"] == "true" || o["skip-setup-trivy"] == "" && o["cache"] == "false" && o["skip-db-update"] == "true" {
		p = append(p, "skips the vulnerability database update, so it scans against an old or empty database")
	}
	if db := o["db-repository"]; db != "" && !defaultDBs[db] {
		p = append(p, fmt.Sprintf("reads its vulnerability database from %q, not Trivy's", db))
	}
	if s.cmd == nil {
		if v := o["version"]; v != "" {
			if _, ok := pins.CompromisedTrivy[pins.Normalize(v)]; ok {
				p = append(p, fmt.Sprintf("installs the compromised Trivy %s", v))
			}
		}
	} else if !c.installsTrivy(w, j, s.step) {
		p = append(p, "runs a trivy that no earlier step of the job installs at a pinned version (aquasecurity/setup-trivy or trivy-action with version:)")
	}
	env := c.env(w, j, s.step)
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if strings.HasPrefix(k, "TRIVY_") && !trivyEnvAllowed[k] {
			p = append(p, fmt.Sprintf("runs with %s=%q, which changes what Trivy reports", k, env[k]))
		}
	}
	for _, f := range pipeline.RootFiles {
		if _, ok := c.Repo.Files[f]; ok {
			p = append(p, fmt.Sprintf("runs in a checkout whose root holds %s, which Trivy reads and which can drop findings", f))
		}
	}
	return p
}

func (c *Context) installsTrivy(w *pipeline.Workflow, j *pipeline.Job, before *pipeline.Step) bool {
	for _, s := range c.flow(j) {
		if s.Index >= before.Index {
			return false
		}
		switch s.Action() {
		case "aquasecurity/setup-trivy", "aquasecurity/trivy-action":
			if exactVersion.MatchString(strings.TrimSpace(s.With["version"])) {
				return true
			}
		}
	}
	return false
}

// reportsFailure reports whether a step only runs after something failed (a step that prints
// the findings of a failed scan): it never runs normally, and it runs after a failure.
func (c *Context) reportsFailure(w *pipeline.Workflow, j *pipeline.Job, s *pipeline.Step) bool {
	if c.runsNormally(w, j, s) {
		return false
	}
	for _, sc := range c.mayRun(w, j) {
		if c.stepTruth(s, sc, failedStatus, nil) != cond.False {
			return true
		}
	}
	return false
}

func checkScanSettings(c *Context) []Finding {
	var out []Finding
	for _, w := range c.Repo.Workflows {
		for _, j := range w.Jobs {
			scans := c.scans(w, j)
			if len(scans) > 0 && !slices.ContainsFunc(scans, func(s scan) bool { return !c.reportsFailure(w, j, s.step) }) {
				out = append(out, finding("scan-settings", w.Path, j.Line, j.ID, "no Trivy scan of this job runs unless something failed before it (if: failure()): the job checks nothing"))
			}
			for _, s := range scans {
				if c.reportsFailure(w, j, s.step) {
					continue
				}
				line := s.step.UsesLine
				if s.cmd != nil {
					line = s.step.ScriptLine + s.cmd.Line - 1
				}
				at := func(format string, args ...any) {
					out = append(out, finding("scan-settings", c.stepPath(w, s.step), line, j.ID, "scan step %q %s", s.step.Label(), fmt.Sprintf(format, args...)))
				}
				for _, p := range c.scanProblems(w, j, s) {
					at("%s", p)
				}
				for st := s.step; st != nil; st = st.Parent {
					if coe := st.ContinueOnError; coe != "" && coe != "false" {
						at("has continue-on-error: %s, so its findings do not fail the job", coe)
					}
				}
				for _, sc := range c.mayRun(w, j) {
					if t := c.stepTruth(s.step, sc, cond.Normal, nil); t != cond.True {
						at("does not always run with its job (on a %s, if: %q is %s): a scan that can be skipped is not a check", sc.Name, condText(s.step), t)
						break
					}
				}
				if s.cmd != nil {
					if v := s.script.FailsWithout([]*shell.Command{s.cmd}); !v.OK {
						at("`%s` does not fail its step: %s", s.cmd.Text, v.Reason)
					}
				}
			}
		}
	}
	return out
}

// push is one place a job publishes an image.
type push struct {
	step   *pipeline.Step
	cmd    *shell.Command
	script *shell.Script
}

func (p push) label() string {
	if p.cmd != nil {
		return fmt.Sprintf("%q (`%s`)", p.step.Label(), p.cmd.Text)
	}
	return fmt.Sprintf("%q", p.step.Label())
}

func (c *Context) pushes(w *pipeline.Workflow, j *pipeline.Job) []push {
	var out []push
	for _, s := range c.flow(j) {
		if pushStep(s) {
			out = append(out, push{step: s})
			continue
		}
		sc := c.runScript(w, j, s)
		if sc == nil {
			continue
		}
		for _, cmd := range sc.Commands {
			if pushes(cmd) {
				out = append(out, push{step: s, cmd: cmd, script: sc})
			}
		}
	}
	return out
}

// buildInputs are the build-push-action inputs that decide what image is built.
var buildInputs = []string{"context", "file", "platforms", "build-args", "target", "build-contexts", "secrets", "secret-files", "ssh", "pull", "no-cache-filters", "builder", "add-hosts"}

func (c *Context) buildKey(w *pipeline.Workflow, j *pipeline.Job, s *pipeline.Step) map[string]string {
	k := map[string]string{}
	for _, in := range buildInputs {
		k[in] = strings.TrimSpace(c.withValue(w, j, s, s.With[in]))
	}
	if k["file"] == "" && k["context"] != "" {
		k["file"] = strings.TrimSuffix(k["context"], "/") + "/Dockerfile"
	}
	if k["file"] == "Dockerfile" || k["file"] == "./Dockerfile" {
		k["file"] = "./Dockerfile"
	}
	if k["context"] == "./" {
		k["context"] = "."
	}
	return k
}

// loadedBuild returns the step before `before` that builds and loads a tag locally.
func (c *Context) loadedBuild(w *pipeline.Workflow, j *pipeline.Job, tag string, before *pipeline.Step) *pipeline.Step {
	var found *pipeline.Step
	for _, s := range c.flow(j) {
		if s.Index >= before.Index {
			break
		}
		if s.Action() != "docker/build-push-action" || pushStep(s) {
			continue
		}
		loads := s.With["load"] == "true" || strings.Contains(s.With["outputs"], "type=docker")
		if loads && slices.Contains(splitList(c.withValue(w, j, s, s.With["tags"])), tag) {
			found = s
		}
	}
	return found
}

func checkScanBeforePush(c *Context) []Finding {
	const name = "scan-before-push"
	var out []Finding
	c.eachJob(func(w *pipeline.Workflow, j *pipeline.Job) {
		ps := c.pushes(w, j)
		if len(ps) == 0 {
			return
		}
		var scans []scan
		for _, s := range c.scans(w, j) {
			if s.kind == "image" && c.runsNormally(w, j, s.step) {
				scans = append(scans, s)
			}
		}
		for _, p := range ps {
			line := p.step.Line
			if len(scans) == 0 {
				out = append(out, finding(name, c.stepPath(w, p.step), line, j.ID, "step %s pushes an image but no Trivy image scan runs in this job", p.label()))
				continue
			}
			var reasons []string
			ok := false
			for _, s := range scans {
				why := c.scanGuardsPush(w, j, s, p)
				if why == "" {
					ok = true
					break
				}
				reasons = append(reasons, fmt.Sprintf("scan %q %s", s.step.Label(), why))
			}
			if !ok {
				out = append(out, finding(name, c.stepPath(w, p.step), line, j.ID, "step %s pushes an image that no scan gates: %s", p.label(), strings.Join(reasons, "; ")))
			}
		}
	})
	return out
}

// scanGuardsPush says why a scan does not stop a push of the scanned image, or "".
func (c *Context) scanGuardsPush(w *pipeline.Workflow, j *pipeline.Job, s scan, p push) string {
	if probs := c.scanProblems(w, j, s); len(probs) > 0 {
		return "is not a gate: it " + strings.Join(probs, ", it ")
	}
	// Control flow: the scan runs first, and its failure stops the push.
	if s.step == p.step && s.cmd != nil && p.cmd != nil {
		if v := s.script.Guards([]*shell.Command{s.cmd}, []*shell.Command{p.cmd}); !v.OK {
			return "does not stop the push in the same script: " + v.Reason
		}
	} else {
		if s.cmd != nil {
			if v := s.script.FailsWithout([]*shell.Command{s.cmd}); !v.OK {
				return "does not fail its step: " + v.Reason
			}
		}
		if ok, why := c.stepGates(w, j, s.step, p.step); !ok {
			return "does not gate it: " + why
		}
	}
	// The same image.
	if s.opts["input"] != "" {
		return fmt.Sprintf("scans the archive %q, not an image this job builds", s.opts["input"])
	}
	build := c.loadedBuild(w, j, s.target, s.step)
	if build == nil {
		return fmt.Sprintf("scans %q, which is not a tag this job builds and loads before the scan", s.target)
	}
	if p.cmd == nil {
		if p.step.Action() != "docker/build-push-action" {
			return "cannot be tied to what the push step publishes"
		}
		want, got := c.buildKey(w, j, build), c.buildKey(w, j, p.step)
		for _, in := range buildInputs {
			if want[in] != got[in] {
				return fmt.Sprintf("scanned a build whose %s is %q, but the push builds with %s %q: the pushed image is not the scanned one", in, want[in], in, got[in])
			}
		}
		// The push rebuilds with the scanned build's inputs, so its layers are the scanned ones
		// only if it takes them from the builder's cache.
		if v := strings.TrimSpace(p.step.With["no-cache"]); v != "" && v != "false" {
			return "is followed by a push that builds again without the cache (no-cache): its layers are built anew, not the scanned ones"
		}
		if v := strings.TrimSpace(p.step.With["no-cache-filters"]); v != "" {
			return fmt.Sprintf("is followed by a push that builds the stages %q again without the cache (no-cache-filters): its layers are built anew, not the scanned ones", v)
		}
		return ""
	}
	// docker push of the scanned tag, or of a tag made from it.
	sub, _ := p.cmd.Subcommand(dockerValued)
	if base(p.cmd.Name) == "docker" && (sub == "push" || sub == "image") {
		ops := p.cmd.Operands(dockerValued)
		if len(ops) > 0 {
			ref := ops[len(ops)-1].Text
			if ref == s.target || c.taggedFrom(w, j, s.target, ref) {
				return ""
			}
			return fmt.Sprintf("scanned %q, but the push publishes %q", s.target, ref)
		}
	}
	return "cannot be tied to what `" + p.cmd.Text + "` publishes (it builds or copies an image of its own)"
}

// taggedFrom reports whether the job tags src as dst (docker tag src dst).
func (c *Context) taggedFrom(w *pipeline.Workflow, j *pipeline.Job, src, dst string) bool {
	for _, cm := range c.commands(w, j) {
		if base(cm.cmd.Name) != "docker" {
			continue
		}
		ops := cm.cmd.Operands(dockerValued)
		if len(ops) == 3 && ops[0].Text == "tag" && ops[1].Text == src && ops[2].Text == dst {
			return true
		}
	}
	return false
}
