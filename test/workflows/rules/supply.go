package rules

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/platform-template/template-api/test/workflows/pins"
	"github.com/platform-template/template-api/test/workflows/pipeline"
	"github.com/platform-template/template-api/test/workflows/shell"
	"go.yaml.in/yaml/v4"
)

// The supply family: what third-party code a workflow runs, and that it is the code it claims.

// use is one uses: of the repository.
type use struct {
	path, job string
	line      int
	uses      string
	comment   string
	workflow  bool // a reusable workflow
	step      *pipeline.Step
}

func (c *Context) uses() []use {
	var out []use
	for _, w := range c.Repo.Workflows {
		for _, j := range w.Jobs {
			if j.Call != nil {
				out = append(out, use{w.Path, j.ID, j.Call.Line, j.Call.Uses, j.Call.Comment, true, nil})
			}
			for _, s := range j.Steps {
				if s.Uses != "" {
					out = append(out, use{w.Path, j.ID, s.UsesLine, s.Uses, s.UsesComment, false, s})
				}
			}
		}
	}
	for _, a := range c.sortedActions() {
		for _, s := range a.Steps {
			if s.Uses != "" {
				out = append(out, use{a.Path, "", s.UsesLine, s.Uses, s.UsesComment, false, s})
			}
		}
	}
	return out
}

func (c *Context) sortedActions() []*pipeline.Action {
	var out []*pipeline.Action
	for _, a := range c.Repo.Actions {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *pipeline.Action) int { return strings.Compare(a.Path, b.Path) })
	return out
}

var (
	fullSHA        = regexp.MustCompile(`^[0-9a-f]{40}$`)
	versionComment = regexp.MustCompile(`^v?(\d+\.\d+\.\d+)\b`)
)

// pinnedRef splits owner/repo[/path]@sha; ok is false for local and docker uses.
func pinnedRef(uses string) (repo, ref string, ok bool) {
	if pipeline.Local(uses) || strings.HasPrefix(uses, "docker://") {
		return "", "", false
	}
	_, ref, _ = strings.Cut(uses, "@")
	return pipeline.Repository(uses), ref, true
}

func commentVersion(comment string) string {
	if m := versionComment.FindStringSubmatch(comment); m != nil {
		return "v" + m[1]
	}
	return ""
}

func checkPinnedActions(c *Context) []Finding {
	const name = "pinned-actions"
	var out []Finding
	for _, u := range c.uses() {
		what := "action"
		if u.workflow {
			what = "reusable workflow"
		}
		switch {
		case pipeline.Local(u.uses):
			continue
		case strings.HasPrefix(u.uses, "docker://"):
			if !imageDigest.MatchString(u.uses) {
				out = append(out, finding(name, u.path, u.line, u.job, "%s is not pinned by digest (@sha256:...)", u.uses))
			}
			continue
		}
		_, ref, _ := pinnedRef(u.uses)
		if !fullSHA.MatchString(ref) {
			out = append(out, finding(name, u.path, u.line, u.job, "%s %s is not pinned to a full 40-hex commit SHA (a tag or branch can be moved under you, as the trivy-action tags were in March 2026)", what, u.uses))
			continue
		}
		if commentVersion(u.comment) == "" {
			out = append(out, finding(name, u.path, u.line, u.job, "%s %s has no version comment (# vX.Y.Z) saying which release the SHA is", what, u.uses))
		}
	}
	return out
}

func checkActionOwners(c *Context) []Finding {
	const name = "action-owners"
	var out []Finding
	for _, u := range c.uses() {
		repo, _, ok := pinnedRef(u.uses)
		if !ok {
			continue
		}
		owner, _, _ := strings.Cut(repo, "/")
		if slices.Contains(c.Cfg.Owners, owner) {
			continue
		}
		msg := fmt.Sprintf("%s is from %q, not an owner this repository trusts (%s)", u.uses, owner, strings.Join(c.Cfg.Owners, ", "))
		if like := lookalike(owner, c.Cfg.Owners); like != "" {
			msg = fmt.Sprintf("%s is from %q, which looks like %q but is another account (typosquatting): use %s's action, or add the owner to pins.Owners after review", u.uses, owner, like, like)
		}
		out = append(out, finding(name, u.path, u.line, u.job, "%s", msg))
	}
	return out
}

// lookalike returns the trusted owner an owner imitates: a few edits away, or the same with
// separators or affixes added.
func lookalike(owner string, trusted []string) string {
	norm := func(s string) string {
		return strings.NewReplacer("-", "", "_", "", ".", "", "0", "o", "1", "l", "l", "i", "rn", "m").Replace(s)
	}
	for _, t := range trusted {
		if distance(owner, t) <= 2 || norm(owner) == norm(t) || strings.Contains(owner, t) {
			return t
		}
	}
	return ""
}

func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func checkActionRelease(c *Context) []Finding {
	const name = "action-release"
	var out []Finding
	for _, u := range c.uses() {
		repo, sha, ok := pinnedRef(u.uses)
		if !ok || !fullSHA.MatchString(sha) {
			continue
		}
		claimed := commentVersion(u.comment)
		r, known := c.Cfg.Pins.Commit(repo, sha)
		switch {
		case !known:
			hint := ""
			if v, ok := c.Cfg.Pins.Version(repo, claimed); ok {
				hint = fmt.Sprintf("; %s %s is %s", repo, claimed, v.Commit)
			}
			out = append(out, finding(name, u.path, u.line, u.job, "%s@%s is not a release the rules know (pins/actions.tsv)%s: if it is one, add it with where its SHA was found", repo, sha, hint))
		case claimed != "" && r.Version != claimed:
			out = append(out, finding(name, u.path, u.line, u.job, "%s@%s is release %s, but its comment says %s: the comment must name the release the SHA is", repo, sha[:12], r.Version, claimed))
		}
	}
	return out
}

func checkCompromised(c *Context) []Finding {
	const name = "compromised-releases"
	var out []Finding
	for _, u := range c.uses() {
		repo, sha, ok := pinnedRef(u.uses)
		if !ok {
			continue
		}
		version := commentVersion(u.comment)
		if r, known := c.Cfg.Pins.Commit(repo, sha); known {
			version = r.Version
		} else if !fullSHA.MatchString(sha) {
			version = sha // a tag: its name is the version it claims
		}
		if adv, bad := pins.CompromisedRelease(repo, version, sha); bad {
			out = append(out, finding(name, u.path, u.line, u.job, "%s is a compromised release: %s", u.uses, adv))
		}
		if u.step != nil {
			switch pipeline.ActionName(u.uses) {
			case "aquasecurity/trivy-action", "aquasecurity/setup-trivy":
				if adv, bad := pins.CompromisedTrivy[pins.Normalize(u.step.With["version"])]; bad {
					out = append(out, finding(name, u.path, u.line, u.job, "step %q installs Trivy %s: %s", u.step.Label(), u.step.With["version"], adv))
				}
			}
		}
	}
	for _, ref := range c.images() {
		repo, tag, _ := imageRef(ref.image)
		if strings.HasSuffix(repo, "aquasec/trivy") || strings.HasSuffix(repo, "aquasecurity/trivy") {
			if adv, bad := pins.CompromisedTrivy[pins.Normalize(tag)]; bad {
				out = append(out, finding(name, ref.path, ref.line, ref.job, "image %s is a compromised Trivy build: %s", ref.image, adv))
			}
		}
	}
	for _, w := range c.Repo.Workflows {
		for _, j := range w.Jobs {
			for _, cm := range c.commands(w, j) {
				if base(cm.cmd.Name) != "install.sh" && !strings.Contains(cm.cmd.Text, "trivy") {
					continue
				}
				for _, a := range cm.cmd.Args {
					if adv, bad := pins.CompromisedTrivy[pins.Normalize(a.Text)]; bad {
						out = append(out, finding(name, c.stepPath(w, cm.step), cm.step.ScriptLine+cm.cmd.Line-1, j.ID, "`%s` installs Trivy %s: %s", cm.cmd.Text, a.Text, adv))
					}
				}
			}
		}
	}
	return out
}

func checkRetiredRuntime(c *Context) []Finding {
	const name = "retired-runtime"
	var out []Finding
	for _, u := range c.uses() {
		repo, sha, ok := pinnedRef(u.uses)
		if !ok {
			continue
		}
		r, known := c.Cfg.Pins.Commit(repo, sha)
		if !known {
			continue
		}
		if why, retired := pins.RetiredRuntimes[r.Runs]; retired {
			out = append(out, finding(name, u.path, u.line, u.job, "%s %s runs on %s: %s; move to a release on node24", repo, r.Version, r.Runs, why))
		}
	}
	for _, a := range c.sortedActions() {
		if why, retired := pins.RetiredRuntimes[a.Using]; retired {
			out = append(out, finding(name, a.Path, 1, "", "the action runs on %s: %s", a.Using, why))
		}
	}
	return out
}

// imageUse is an image a workflow or action runs.
type imageUse struct {
	path, job, what, image string
	line                   int
}

// images lists the images the repository runs outside of scripts.
func (c *Context) images() []imageUse {
	var out []imageUse
	for _, w := range c.Repo.Workflows {
		for _, j := range w.Jobs {
			for what, img := range j.Images {
				out = append(out, imageUse{w.Path, j.ID, what + " image", img, j.Line})
			}
			for _, s := range c.flow(j) {
				switch s.Action() {
				case "docker/setup-buildx-action":
					if s.With["driver"] != "docker" {
						img := optValue(s.With["driver-opts"], "image")
						if img == "" {
							img = "moby/buildkit (the action's default tag)"
						}
						out = append(out, imageUse{c.stepPath(w, s), j.ID, "the BuildKit image of setup-buildx", img, s.UsesLine})
					}
				case "docker/build-push-action":
					if sb := s.With["sbom"]; sb != "" && sb != "false" {
						gen := optValue(sb, "generator")
						if gen == "" {
							gen = "docker/buildkit-syft-scanner (BuildKit's default tag)"
						}
						out = append(out, imageUse{c.stepPath(w, s), j.ID, "the SBOM generator", gen, s.UsesLine})
					}
				}
			}
		}
	}
	for _, a := range c.sortedActions() {
		if a.Using == "docker" && strings.HasPrefix(a.Image, "docker://") {
			out = append(out, imageUse{a.Path, "", "the docker action's image", strings.TrimPrefix(a.Image, "docker://"), 1})
		}
	}
	slices.SortFunc(out, func(a, b imageUse) int { return strings.Compare(a.path+a.job+a.what, b.path+b.job+b.what) })
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

// localImages are the tags a job builds itself (and may then run or scan).
func (c *Context) localImages(w *pipeline.Workflow, j *pipeline.Job) map[string]bool {
	out := map[string]bool{}
	for _, s := range c.flow(j) {
		if s.Action() == "docker/build-push-action" {
			for _, t := range splitList(c.withValue(w, j, s, s.With["tags"])) {
				out[t] = true
			}
		}
	}
	for _, cm := range c.commands(w, j) {
		if base(cm.cmd.Name) != "docker" {
			continue
		}
		sub, _ := cm.cmd.Subcommand(dockerValued)
		if sub == "build" || sub == "buildx" || sub == "tag" {
			for _, t := range cm.cmd.Flag("-t", "--tag") {
				out[t.Text] = true
			}
			if sub == "tag" {
				if ops := cm.cmd.Operands(dockerValued); len(ops) == 3 {
					out[ops[2].Text] = true
				}
			}
		}
	}
	return out
}

func splitList(v string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func checkPinnedImages(c *Context) []Finding {
	const name = "pinned-images"
	var out []Finding
	for _, im := range c.images() {
		if !imageDigest.MatchString(im.image) {
			out = append(out, finding(name, im.path, im.line, im.job, "%s %q is not pinned by digest (@sha256:...)", im.what, im.image))
		}
	}
	for _, w := range c.Repo.Workflows {
		for _, j := range w.Jobs {
			local := c.localImages(w, j)
			for _, cm := range c.commands(w, j) {
				img, verb := runsImage(cm.cmd)
				if img == "" || imageDigest.MatchString(img) || local[img] {
					continue
				}
				out = append(out, finding(name, c.stepPath(w, cm.step), cm.step.ScriptLine+cm.cmd.Line-1, j.ID, "step %q runs `%s %s` of image %q, which is not pinned by digest (@sha256:...)", cm.step.Label(), base(cm.cmd.Name), verb, img))
			}
		}
	}
	return out
}

// runsImage returns the image a docker/podman command runs or pulls, and the verb.
func runsImage(c *shell.Command) (string, string) {
	switch base(c.Name) {
	case "docker", "podman", "nerdctl":
	default:
		return "", ""
	}
	sub, i := c.Subcommand(dockerValued)
	if i < 0 {
		return "", ""
	}
	args := c.Args[i+1:]
	if sub == "container" || sub == "image" {
		next, j := (&shell.Command{Args: args}).Subcommand(nil)
		if j < 0 {
			return "", ""
		}
		sub, args = next, args[j+1:]
	}
	switch sub {
	case "run", "create", "pull":
		ops := (&shell.Command{Args: args}).Operands(dockerRunValued)
		if len(ops) > 0 {
			return ops[0].Text, sub
		}
	}
	return "", ""
}

// Versions of tools.

var (
	goVersion    = regexp.MustCompile(`@v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+incompatible)?$`)
	mutableURL   = regexp.MustCompile(`(?i)(/refs/heads/|/(main|master|HEAD|develop|trunk)/|/releases/latest|/latest/|[?&]ref=(main|master|HEAD)\b)`)
	exactVersion = regexp.MustCompile(`^v?\d+\.\d+\.\d+$`)
)

// versionInputs are the inputs of setup actions that choose a tool's version, and whether an
// empty value falls back to a moving default ("latest").
var versionInputs = map[string]struct {
	input    string
	required bool
}{
	"actions/setup-go":            {"go-version", true},
	"actions/setup-node":          {"node-version", true},
	"actions/setup-python":        {"python-version", true},
	"hashicorp/setup-terraform":   {"terraform_version", true},
	"azure/setup-kubectl":         {"version", true},
	"azure/setup-helm":            {"version", true},
	"aquasecurity/trivy-action":   {"version", true},
	"aquasecurity/setup-trivy":    {"version", true},
	"sigstore/cosign-installer":   {"cosign-release", false},
	"docker/setup-buildx-action":  {"version", false},
	"opentofu/setup-opentofu":     {"tofu_version", true},
	"ko-build/setup-ko":           {"version", true},
	"open-policy-agent/setup-opa": {"version", true},
}

func checkPinnedTools(c *Context) []Finding {
	const name = "pinned-tools"
	var out []Finding
	for _, u := range c.uses() {
		if u.step == nil {
			continue
		}
		vi, ok := versionInputs[pipeline.ActionName(u.uses)]
		if !ok {
			continue
		}
		v := strings.TrimSpace(u.step.With[vi.input])
		switch {
		case v == "" && vi.required:
			out = append(out, finding(name, u.path, u.line, u.job, "step %q does not set %s, so the action installs whatever version is current", u.step.Label(), vi.input))
		case v != "" && !exactVersion.MatchString(v):
			out = append(out, finding(name, u.path, u.line, u.job, "step %q installs %s %q, not an exact version (X.Y.Z): a moving version changes the tool under the pipeline", u.step.Label(), vi.input, v))
		}
	}
	for _, w := range c.Repo.Workflows {
		for _, j := range w.Jobs {
			for _, cm := range c.commands(w, j) {
				if why := unpinnedTool(cm.cmd); why != "" {
					out = append(out, finding(name, c.stepPath(w, cm.step), cm.step.ScriptLine+cm.cmd.Line-1, j.ID, "step %q: `%s` %s", cm.step.Label(), cm.cmd.Text, why))
				}
			}
		}
	}
	for _, a := range c.sortedActions() {
		// Composite actions no workflow uses are read too: they are one edit away from use.
		if c.actionUsed(a) {
			continue
		}
		for _, s := range a.Steps {
			if s.Run == "" {
				continue
			}
			sc, err := shell.Parse(s.Run, shell.Options{Shell: s.Shell, Env: s.Env.Vars, ReadFile: c.Repo.ReadFile})
			if err != nil {
				continue
			}
			for _, cmd := range sc.Commands {
				if why := unpinnedTool(cmd); why != "" {
					out = append(out, finding(name, a.Path, s.ScriptLine+cmd.Line-1, "", "step %q: `%s` %s", s.Label(), cmd.Text, why))
				}
			}
		}
	}
	return out
}

func (c *Context) actionUsed(a *pipeline.Action) bool {
	for _, u := range c.uses() {
		if act, ok := c.Repo.Action(u.uses); ok && act == a {
			return true
		}
	}
	return false
}

// unpinnedTool says why a command installs or runs a tool at a version that can move.
func unpinnedTool(c *shell.Command) string {
	switch base(c.Name) {
	case "go":
		sub, i := c.Subcommand(nil)
		if sub != "install" && sub != "run" && sub != "get" {
			return ""
		}
		for _, a := range (&shell.Command{Args: c.Args[i+1:]}).Operands(nil) {
			t := a.Text
			if strings.HasPrefix(t, ".") || strings.HasPrefix(t, "/") || !strings.Contains(t, ".") {
				continue // a package of this module
			}
			if !strings.Contains(t, "@") {
				if sub == "run" || sub == "get" {
					continue // runs the version this module's go.mod pins
				}
				return "installs " + t + " at no version: go resolves it to the latest release"
			}
			if !goVersion.MatchString(t) {
				return "installs " + t + ": not a fixed version (@vX.Y.Z), so it moves"
			}
		}
	case "npx", "pnpx", "bunx":
		if ops := c.Operands(nil); len(ops) > 0 {
			a := ops[0] // the package it runs
			if !strings.Contains(strings.TrimPrefix(a.Text, "@"), "@") || strings.HasSuffix(a.Text, "@latest") {
				return "runs " + a.Text + " at whatever version the registry serves today"
			}
		}
	case "npm", "pnpm", "yarn":
		sub, i := c.Subcommand(nil)
		if sub != "install" && sub != "i" && sub != "add" {
			return ""
		}
		if !c.Has("-g", "--global") {
			return ""
		}
		for _, a := range (&shell.Command{Args: c.Args[i+1:]}).Operands(nil) {
			if !strings.Contains(strings.TrimPrefix(a.Text, "@"), "@") || strings.HasSuffix(a.Text, "@latest") {
				return "installs " + a.Text + " at whatever version the registry serves today"
			}
		}
	case "pip", "pip3", "pipx", "uv":
		sub, i := c.Subcommand(nil)
		if sub != "install" {
			return ""
		}
		if c.Has("-r", "--requirement", "--require-hashes") {
			return ""
		}
		for _, a := range (&shell.Command{Args: c.Args[i+1:]}).Operands(nil) {
			if !strings.Contains(a.Text, "==") && !strings.HasPrefix(a.Text, ".") {
				return "installs " + a.Text + " at whatever version the index serves today (pin it with ==X.Y.Z)"
			}
		}
	case "curl", "wget":
		for _, a := range c.Args {
			if strings.Contains(a.Text, "://") && mutableURL.MatchString(a.Text) {
				return "downloads " + a.Text + ", a moving address (a branch or latest): pin a release and check its checksum"
			}
		}
	}
	if shells[base(c.Name)] {
		if from := c.PipedFrom; from != nil && (base(from.Name) == "curl" || base(from.Name) == "wget") {
			return "runs a script straight from a download (" + from.Text + "), unchecked"
		}
		for _, a := range c.Args {
			if strings.Contains(a.Text, "$(curl") || strings.Contains(a.Text, "$(wget") || strings.Contains(a.Text, "<(curl") || strings.Contains(a.Text, "<(wget") {
				return "runs a script straight from a download, unchecked"
			}
		}
	}
	return ""
}

var shells = map[string]bool{"bash": true, "sh": true, "dash": true, "zsh": true, "ksh": true, "source": true, ".": true}

// cachingActions are the actions that restore files from the Actions cache, by the input that
// turns it on and what that input must say in a privileged job. The cache is shared by every run
// on a branch: an entry one job writes, any later job restores, so a job that merely runs tests
// (third-party modules, pull requests merged on main) can plant a binary, a module or a
// vulnerability database that the job holding the OIDC token then runs or trusts.
var cachingActions = map[string][]struct{ input, want, why string }{
	"actions/setup-go":            {{"cache", "false", "caches the module and build caches by default"}},
	"aquasecurity/trivy-action":   {{"cache", "false", "caches the Trivy binary and its vulnerability database by default"}},
	"aquasecurity/setup-trivy":    {{"cache", "false", "caches the Trivy binary when asked"}},
	"actions/setup-node":          {{"cache", "", "caches the package manager's store when asked"}, {"package-manager-cache", "false", "caches the package manager's store by default (v5)"}},
	"actions/setup-python":        {{"cache", "", "caches the package manager's store when asked"}},
	"actions/setup-java":          {{"cache", "", "caches the build tool's dependencies when asked"}},
	"actions/setup-dotnet":        {{"cache", "", "caches the NuGet packages when asked"}},
	"docker/setup-buildx-action":  {{"cache-binary", "false", "caches the buildx binary it downloads by default"}},
	"docker/build-push-action":    {{"cache-from", "", "reads the build cache from where it is written"}},
	"docker/bake-action":          {{"set", "", "may read a build cache (*.cache-from)"}},
	"astral-sh/setup-uv":          {{"enable-cache", "false", "caches the uv store"}},
	"ruby/setup-ruby":             {{"bundler-cache", "", "caches the installed gems when asked"}},
	"gradle/actions/setup-gradle": {{"cache-disabled", "true", "caches Gradle's home by default"}},
}

// checkNoRestoredCaches refuses, in a privileged job, every road by which a file written by
// another run comes back from the Actions cache: actions/cache (and its restore action), an
// action that caches by default unless told not to, one told to cache, and a build that reads
// its cache from the Actions cache (cache-from type=gha), in a step or a script.
func checkNoRestoredCaches(c *Context) []Finding {
	const name = "no-restored-caches"
	var out []Finding
	c.privilegedJobs(func(w *pipeline.Workflow, j *pipeline.Job) {
		for _, s := range c.flow(j) {
			a := s.Action()
			if a == "actions/cache" || a == "actions/cache/restore" {
				out = append(out, finding(name, c.stepPath(w, s), s.UsesLine, j.ID, "step %q restores files from the Actions cache in a privileged job: any run on the branch can write what it restores", s.Label()))
				continue
			}
			for _, in := range cachingActions[a] {
				v := strings.TrimSpace(strings.Trim(strings.TrimSpace(s.With[in.input]), `"'`))
				if in.input == "set" && !strings.Contains(v, "cache-from") || v == in.want || in.want == "" && v == "false" {
					continue
				}
				if in.want == "" {
					out = append(out, finding(name, c.stepPath(w, s), s.UsesLine, j.ID, "step %q sets %s %q in a privileged job: %s %s, which any run on the branch can write", s.Label(), in.input, v, a, in.why))
				} else {
					out = append(out, finding(name, c.stepPath(w, s), s.UsesLine, j.ID, "step %q must set %s: %s in a privileged job: %s %s, which any run on the branch can write", s.Label(), in.input, in.want, a, in.why))
				}
			}
		}
		for _, cm := range c.commands(w, j) {
			for _, v := range cm.cmd.Flag("--cache-from") {
				if strings.Contains(v.Text, "type=gha") || !v.Known {
					out = append(out, finding(name, c.stepPath(w, cm.step), cm.step.ScriptLine+cm.cmd.Line-1, j.ID, "step %q: `%s` reads the build cache from the Actions cache in a privileged job, which any run on the branch can write", cm.step.Label(), cm.cmd.Text))
				}
			}
		}
	})
	return out
}

// trustedRunIDs are the runs a privileged job may take artifacts from: its own (no run id), or
// the build that started it, which trusted-runs requires to be a successful push to main.
var trustedRunIDs = map[string]bool{
	"": true, "${{ github.run_id }}": true, "$GITHUB_RUN_ID": true, "${GITHUB_RUN_ID}": true,
	"${{ github.event.workflow_run.id }}": true,
}

// sameRepository are the spellings of this repository (none: the default).
var sameRepository = map[string]bool{"": true, "$GITHUB_REPOSITORY": true, "${GITHUB_REPOSITORY}": true}

// underRunnerTemp says whether a download path is inside the runner's temporary directory, away
// from the checked-out code.
func underRunnerTemp(path string) bool {
	p := shell.Canonical(strings.TrimSpace(path))
	for _, prefix := range []string{"${RUNNER_TEMP}", "$RUNNER_TEMP"} {
		if rest, ok := strings.CutPrefix(p, prefix); ok && (rest == "" || strings.HasPrefix(rest, "/")) && !strings.Contains(rest, "..") {
			return true
		}
	}
	return false
}

// ghRunDownloadValued are the flags of `gh run download` that take a value.
var ghRunDownloadValued = valued("-D", "--dir", "-R", "--repo", "-n", "--name", "-p", "--pattern")

// ghRunDownload reads `gh run download [<run-id>] [-n name] [-p pattern] [-D dir] [-R repo]`:
// the run, the repository and the directory it writes into ("" where not given; the last value
// where a flag is given twice, as gh takes it).
func ghRunDownload(cmd *shell.Command) (run, repo, dir string, ok bool) {
	if base(cmd.Name) != "gh" {
		return "", "", "", false
	}
	ops := cmd.Operands(ghRunDownloadValued)
	if len(ops) < 2 || ops[0].Text != "run" || ops[1].Text != "download" {
		return "", "", "", false
	}
	if len(ops) > 2 {
		run = ops[2].Text
	}
	last := func(ws []shell.Word) string {
		if len(ws) == 0 {
			return ""
		}
		return ws[len(ws)-1].Text
	}
	return run, last(cmd.Flag("-R", "--repo")), last(cmd.Flag("-D", "--dir")), true
}

// checkArtifactSources: an artifact is files another job wrote. A privileged job takes them only
// from its own run or the build that started it, of this repository, and never into the
// workspace where it checked out the code it runs (an artifact's Makefile or overlay would replace
// the reviewed one); with actions/download-artifact or gh run download, whose source is read
// here, not through the API.
func checkArtifactSources(c *Context) []Finding {
	const name = "artifact-sources"
	var out []Finding
	c.privilegedJobs(func(w *pipeline.Workflow, j *pipeline.Job) {
		checksOut := slices.ContainsFunc(c.flow(j), func(s *pipeline.Step) bool { return s.Action() == "actions/checkout" })
		for _, s := range c.flow(j) {
			if s.Action() != "actions/download-artifact" {
				continue
			}
			at := c.atStep(&out, name, w, j, s)
			if id := strings.TrimSpace(s.With["run-id"]); !trustedRunIDs[shell.Canonical(id)] {
				at("takes artifacts of run %q in a privileged job: only its own run's or those of the build that started it (github.event.workflow_run.id)", id)
			}
			if r := strings.TrimSpace(s.With["repository"]); !sameRepository[shell.Canonical(r)] {
				at("takes artifacts of repository %q in a privileged job: only this repository's", r)
			}
			if p := strings.TrimSpace(s.With["path"]); checksOut && !underRunnerTemp(p) {
				at("downloads artifacts into the workspace (path %q) of a job that checked out its code: their files would replace the code it runs; download under ${{ runner.temp }}", p)
			}
		}
		for _, cm := range c.commands(w, j) {
			at := c.atCommand(&out, name, w, j, cm, true)
			if base(cm.cmd.Name) == "gh" && len(cm.cmd.Args) > 1 && cm.cmd.Args[0].Text == "api" && slices.ContainsFunc(cm.cmd.Args[1:], func(a shell.Word) bool { return strings.Contains(a.Text, "/artifacts") }) {
				at("reaches artifacts through the API in a privileged job: use actions/download-artifact or gh run download, whose source the rules read")
				continue
			}
			run, repo, dir, ok := ghRunDownload(cm.cmd)
			if !ok {
				continue
			}
			if !trustedRunIDs[shell.Canonical(run)] || run == "" {
				at("takes artifacts of run %q in a privileged job: name its own run ($GITHUB_RUN_ID) or the build that started it (github.event.workflow_run.id)", run)
			}
			if !sameRepository[shell.Canonical(repo)] {
				at("takes artifacts of repository %q in a privileged job: only this repository's", repo)
			}
			if checksOut && !underRunnerTemp(dir) {
				at("downloads artifacts into the workspace (dir %q) of a job that checked out its code: their files would replace the code it runs; download under $RUNNER_TEMP", dir)
			}
		}
	})
	return out
}

// trustedRefs are what a privileged job may check out: the commit of its own run, or for a job
// started by a finished build, that build's commit (trusted-runs requires it to be a push to
// main). A ref from an input, a branch name or a pull request would apply, sign or deploy code
// nobody reviewed for it.
var trustedRefs = map[string]bool{"github.sha": true, "github.ref": true, "github.event.workflow_run.head_sha": true}

// gitSwitches are the git subcommands that put another commit into the working tree.
var gitSwitches = map[string]bool{
	"checkout": true, "switch": true, "pull": true, "reset": true, "merge": true, "rebase": true, "cherry-pick": true,
	"am": true, "worktree": true, "clone": true, "restore": true, "revert": true, "read-tree": true, "checkout-index": true,
	"stash": true, "apply": true, "submodule": true,
}

var gitValued = valued("-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path", "--config-env")

// untrustedRef says why a ref: of actions/checkout is not the run's own commit, or "".
func untrustedRef(ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return ""
	}
	inner, ok := strings.CutPrefix(ref, "${{")
	inner, ok2 := strings.CutSuffix(inner, "}}")
	if !ok || !ok2 || strings.Contains(inner, "${{") {
		return fmt.Sprintf("checks out %q, a ref written in the workflow rather than the commit of its run", ref)
	}
	for _, alt := range strings.Split(inner, "||") {
		if !trustedRefs[strings.TrimSpace(alt)] {
			return fmt.Sprintf("checks out %q: %s is not the commit of its run (github.sha, github.ref, or the triggering build's github.event.workflow_run.head_sha)", ref, strings.TrimSpace(alt))
		}
	}
	return ""
}

// checkTrustedCheckout refuses, in a privileged job, working trees of anything but the run's own
// commit: actions/checkout of another ref or repository, and scripts that switch to another
// commit or fetch another repository's code.
func checkTrustedCheckout(c *Context) []Finding {
	const name = "trusted-checkout"
	var out []Finding
	c.privilegedJobs(func(w *pipeline.Workflow, j *pipeline.Job) {
		for _, s := range c.flow(j) {
			if s.Action() != "actions/checkout" {
				continue
			}
			at := c.atStep(&out, name, w, j, s)
			if why := untrustedRef(s.With["ref"]); why != "" {
				at("%s", why)
			}
			if r := strings.TrimSpace(s.With["repository"]); r != "" && strings.Join(strings.Fields(r), "") != "${{github.repository}}" {
				at("checks out the repository %q in a privileged job: only this repository's reviewed code runs there", r)
			}
			if u := strings.TrimSpace(s.With["github-server-url"]); u != "" && strings.Join(strings.Fields(u), "") != "${{github.server_url}}" {
				at("checks out from the server %q in a privileged job: only this repository's code, from the server the run is on", u)
			}
			if v := strings.TrimSpace(s.With["submodules"]); v != "" && v != "false" {
				at("checks out submodules (submodules: %s) in a privileged job: other repositories' code in its working tree", v)
			}
		}
		for _, cm := range c.commands(w, j) {
			sub, _ := cm.cmd.Subcommand(gitValued)
			switch {
			case base(cm.cmd.Name) == "git" && gitSwitches[sub],
				base(cm.cmd.Name) == "gh" && (sub == "pr" || sub == "repo") && len(cm.cmd.Args) > 1 && slices.ContainsFunc(cm.cmd.Args, func(a shell.Word) bool { return a.Text == "checkout" || a.Text == "clone" }):
				out = append(out, finding(name, c.stepPath(w, cm.step), cm.step.ScriptLine+cm.cmd.Line-1, j.ID, "step %q: `%s` puts other code in the working tree of a privileged job: it runs the commit its checkout took", cm.step.Label(), cm.cmd.Text))
			}
		}
	})
	return out
}

// toolVariables change what a privileged job's tools run, where they fetch from or whom they
// trust, unseen by every rule that reads their commands: a shell that sources a file first, a
// library preloaded into every program, a tool shadowed on PATH, Terraform arguments and
// provider sources, a Sigstore trust root, a Docker daemon, builder or credential helper, a Go
// module proxy without the checksum database, AWS endpoints. Each name, or prefix with *, with
// what it does.
var toolVariables = []struct{ name, why string }{
	{"BASH_ENV", "bash runs that file before every script"},
	{"ENV", "sh runs that file before every script"},
	{"PROMPT_COMMAND", "bash runs it"},
	{"SHELLOPTS", "changes how every script runs"},
	{"BASHOPTS", "changes how every script runs"},
	{"LD_PRELOAD", "loads a library into every program"},
	{"LD_AUDIT", "loads a library into every program"},
	{"LD_LIBRARY_PATH", "loads other libraries into every program"},
	{"NODE_OPTIONS", "loads code into every Node program"},
	{"PYTHONPATH", "loads other modules into every Python program"},
	{"PYTHONSTARTUP", "runs code in Python"},
	{"PERL5OPT", "loads code into every Perl program"},
	{"PERL5LIB", "loads other modules into every Perl program"},
	{"RUBYOPT", "loads code into every Ruby program"},
	{"JAVA_TOOL_OPTIONS", "loads agents into every JVM"},
	{"_JAVA_OPTIONS", "loads agents into every JVM"},
	{"GIT_CONFIG_*", "gives git configuration (hooks, helpers, other remotes)"},
	{"GIT_SSH_COMMAND", "runs a program for every git fetch"},
	{"GIT_EXEC_PATH", "runs other git programs"},
	{"GIT_ASKPASS", "runs a program for git's credentials"},
	{"TF_CLI_ARGS*", "adds arguments to every terraform command (-destroy, -target, -auto-approve)"},
	{"TF_CLI_CONFIG_FILE", "installs providers from where that file says"},
	{"TERRAFORM_CONFIG", "installs providers from where that file says"},
	{"TF_PLUGIN_CACHE_DIR", "takes provider binaries from that folder"},
	{"TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE", "lets cached providers past the lock file"},
	{"TF_SKIP_PROVIDER_VERIFY", "skips provider signature checks"},
	{"TF_REATTACH_PROVIDERS", "talks to provider processes started elsewhere"},
	{"TF_DATA_DIR", "uses another working directory (modules, providers, state)"},
	{"TF_WORKSPACE", "plans and applies another workspace's state"},
	{"TF_VAR_*", "changes the configuration applied, unreviewed"},
	{"SIGSTORE_*", "replaces Sigstore's trust root, transparency log or token"},
	{"TUF_ROOT", "replaces Sigstore's trust root"},
	{"TUF_MIRROR", "replaces Sigstore's trust root"},
	{"COSIGN_*", "changes where cosign signs, what it trusts, or with which key"},
	{"DOCKER_CONFIG", "runs the credential helpers and proxies that file names"},
	{"DOCKER_HOST", "builds and pushes on another daemon"},
	{"DOCKER_CONTEXT", "builds and pushes on another daemon"},
	{"DOCKER_CERT_PATH", "trusts other certificates"},
	{"BUILDKIT_HOST", "builds on another builder"},
	{"BUILDX_BUILDER", "builds on another builder"},
	{"BUILDX_CONFIG", "configures another builder"},
	{"GOPROXY", "downloads modules from elsewhere"},
	{"GOSUMDB", "checks modules against another database, or none"},
	{"GONOSUMDB", "skips the checksum database"},
	{"GONOSUMCHECK", "skips the checksum database"},
	{"GOINSECURE", "downloads modules without TLS"},
	{"GOPRIVATE", "skips the checksum database and the proxy"},
	{"GONOPROXY", "downloads modules straight from their hosts"},
	{"GOFLAGS", "adds flags to every go command (-mod=mod, -toolexec)"},
	{"GOTOOLCHAIN", "downloads and runs another Go toolchain"},
	{"GOENV", "reads Go settings from that file"},
	{"AWS_ENDPOINT_URL*", "sends AWS calls elsewhere"},
	{"AWS_CA_BUNDLE", "trusts other certificates for AWS"},
	{"AWS_CONFIG_FILE", "runs the credential_process that file names"},
	{"KUBECTL_EXTERNAL_DIFF", "runs that program"},
	{"KUBECONFIG", "talks to another cluster, or runs the exec credential plugin that file names"},
	{"GH_REPO", "points gh at another repository (its runs, artifacts and releases)"},
	{"GH_HOST", "points gh at another GitHub host"},
	{"GH_ENTERPRISE_*", "points gh at another GitHub host"},
	{"HOME", "reads every tool's configuration from another home (~/.aws/config credential_process, ~/.docker/config.json helpers, ~/.kube/config, ~/.gitconfig)"},
	{"XDG_CONFIG_HOME", "reads the tools' configuration (gh, git, helm) from elsewhere"},
	{"ACTIONS_ALLOW_UNSECURE_COMMANDS", "lets any program's output set variables and PATH for the later steps (::set-env, ::add-path)"},
	{"SSL_CERT_FILE", "trusts other certificate authorities (a proxy could read and change cosign's, AWS's and the cluster's traffic)"},
	{"SSL_CERT_DIR", "trusts other certificate authorities"},
	{"CURL_CA_BUNDLE", "trusts other certificate authorities"},
	{"REQUESTS_CA_BUNDLE", "trusts other certificate authorities"},
	{"NODE_EXTRA_CA_CERTS", "trusts other certificate authorities"},
	{"HTTPS_PROXY", "sends every request through another host"},
	{"HTTP_PROXY", "sends every request through another host"},
	{"ALL_PROXY", "sends every request through another host"},
	{"NPM_CONFIG_*", "changes npm's registry or scripts"},
	{"PIP_*", "changes pip's index"},
}

// toolVariable returns why setting a variable changes a privileged job's tools, or "". PATH
// may only grow at its end ($PATH:dir), where nothing it adds shadows a tool.
func toolVariable(name, value string) string {
	if name == "PATH" {
		v := strings.TrimSpace(strings.Trim(strings.TrimSpace(value), `"'`))
		if strings.HasPrefix(v, "$PATH:") || strings.HasPrefix(v, "${PATH}:") {
			return ""
		}
		return "puts other programs first on PATH, shadowing the tools the rules read"
	}
	upper := strings.ToUpper(name)
	for _, t := range toolVariables {
		if p, ok := strings.CutSuffix(t.name, "*"); ok && strings.HasPrefix(upper, p) || upper == t.name {
			return t.why
		}
	}
	return ""
}

// checkToolEnvironment refuses, in a privileged job, a variable that changes what its tools do,
// set in env: (of the workflow, the job, a step, a composite action) or by a script, and the
// same change written as configuration: by a tool's own command (go env -w, git config) or into
// a file the tools read (toolconfig.go).
func checkToolEnvironment(c *Context) []Finding {
	const name = "tool-environment"
	var out []Finding
	c.privilegedJobs(func(w *pipeline.Workflow, j *pipeline.Job) {
		type place struct {
			env   pipeline.Env
			path  string
			where string
		}
		places := []place{{w.Env, w.Path, "the workflow's env"}, {j.Env, w.Path, "the job's env"}}
		for _, s := range c.flow(j) {
			places = append(places, place{s.Env, c.stepPath(w, s), fmt.Sprintf("the env of step %q", s.Label())})
		}
		for _, p := range places {
			for _, k := range slices.Sorted(maps.Keys(p.env.Vars)) {
				if why := toolVariable(k, p.env.Vars[k]); why != "" {
					out = append(out, finding(name, p.path, p.env.Line, j.ID, "%s sets %s in a privileged job: it %s", p.where, k, why))
				}
			}
		}
		for _, s := range c.flow(j) {
			for _, in := range slices.Sorted(maps.Keys(s.With)) {
				if v := strings.TrimSpace(s.With[in]); v != "" && toolInput(s.Action(), in) != "" {
					c.atStep(&out, name, w, j, s)("sets %s: %s in a privileged job: it %s", in, v, toolInput(s.Action(), in))
				}
			}
			sc := c.runScript(w, j, s)
			if sc == nil {
				continue
			}
			for _, a := range sc.Assigns {
				if why := toolVariable(a.Name, a.Value.Text); why != "" {
					out = append(out, finding(name, c.stepPath(w, s), s.ScriptLine+a.Line-1, j.ID, "step %q sets %s in a privileged job: it %s", s.Label(), a.Name, why))
				}
			}
		}
		for _, cm := range c.commands(w, j) {
			at := c.atCommand(&out, name, w, j, cm, false)
			if why := toolConfigCommand(cm.cmd); why != "" {
				at("runs `%s` in a privileged job: it %s", cm.cmd, why)
			}
			for _, t := range writtenFiles(cm.cmd) {
				if why := toolConfigFile(t.Text); why != "" {
					at("writes %s in a privileged job: it %s", t.Text, why)
				}
			}
		}
	})
	return dedupeFindings(out)
}

// minCooldownDays is the least delay Dependabot waits after a release before proposing it: a
// compromised release is usually found and pulled within days (trivy-action's was).
const minCooldownDays = 3

// checkDependabotSettings refuses a Dependabot configuration that proposes a release the day it
// is published, lets package managers run code from the updated dependencies with the
// registries' credentials (insecure-external-code-execution), or sends every fetch of an
// ecosystem to another registry (replaces-base).
func checkDependabotSettings(c *Context) []Finding {
	const name = "dependabot-settings"
	var out []Finding
	for _, p := range []string{".github/dependabot.yml", ".github/dependabot.yaml"} {
		data, ok := c.Repo.Files[p]
		if !ok {
			continue
		}
		var cfg struct {
			Registries map[string]struct {
				ReplacesBase bool `yaml:"replaces-base"`
			} `yaml:"registries"`
			Updates []struct {
				Ecosystem string `yaml:"package-ecosystem"`
				Exec      string `yaml:"insecure-external-code-execution"`
				Cooldown  *struct {
					DefaultDays int `yaml:"default-days"`
				} `yaml:"cooldown"`
			} `yaml:"updates"`
		}
		if err := yaml.Unmarshal(data, &cfg); err != nil {
			out = append(out, finding(name, p, 0, "", "does not parse: %v", err))
			continue
		}
		for _, r := range slices.Sorted(maps.Keys(cfg.Registries)) {
			if cfg.Registries[r].ReplacesBase {
				out = append(out, finding(name, p, 0, "", "registry %s replaces the ecosystem's own registry for every dependency (replaces-base)", r))
			}
		}
		for _, u := range cfg.Updates {
			if u.Exec == "allow" {
				out = append(out, finding(name, p, 0, "", "the %s updates allow insecure-external-code-execution: the package manager would run the updated dependencies' code with the registries' credentials", u.Ecosystem))
			}
			if u.Cooldown == nil || u.Cooldown.DefaultDays < minCooldownDays {
				out = append(out, finding(name, p, 0, "", "the %s updates wait less than %d days after a release (cooldown default-days): a compromised release would be proposed the day it appears", u.Ecosystem, minCooldownDays))
			}
		}
	}
	return out
}
