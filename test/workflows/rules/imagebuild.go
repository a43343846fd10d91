package rules

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/platform-template/template-api/test/workflows/pipeline"
)

// Image builds (supply family): the scan gates the push of a build with the same inputs
// (scan-before-push), but two inputs change nothing the scan sees and a great deal else: where
// the image goes (a second tag in a public registry, such as an anonymous ttl.sh, publishes the
// application; outputs: sends it wherever it says) and what the build's RUN steps may reach
// (the job's secrets, its SSH agent, the runner's network, a privileged build container).

// buildReach says what a build action's input gives its RUN steps beyond the context, or "".
func buildReach(input, value string) string {
	switch input {
	case "secrets", "secret-files", "secret-envs":
		return "the build's RUN steps get the job's secrets, files of the runner or its variables"
	case "ssh":
		return "the build's RUN steps get the runner's SSH agent"
	case "allow":
		return "the build gets entitlements (network.host, security.insecure: a privileged build container)"
	case "network":
		if value != "default" {
			return "the build's RUN steps run on another network (host: the runner's own)"
		}
	case "add-hosts":
		return "the build's RUN steps resolve those hosts to addresses of the workflow's choosing (a module proxy or package mirror of its own)"
	}
	return ""
}

// setupBuilder matches the builder a docker/setup-buildx-action step of the job sets up.
var setupBuilder = regexp.MustCompile(`^\$\{\{\s*steps\.([A-Za-z0-9_-]+)\.outputs\.name\s*\}\}$`)

// builderProblem says why a build's builder: input names a builder the job did not set up with
// docker/setup-buildx-action, or "". Another builder (one `docker buildx create` points at a
// remote BuildKit, say) builds whatever it likes from the context it is sent.
func (c *Context) builderProblem(j *pipeline.Job, s *pipeline.Step) string {
	b := strings.TrimSpace(s.With["builder"])
	if b == "" {
		return ""
	}
	if m := setupBuilder.FindStringSubmatch(b); m != nil {
		for _, o := range c.flow(j) {
			if o.ID == m[1] && o.Action() == "docker/setup-buildx-action" && o.Index < s.Index {
				return ""
			}
		}
	}
	return fmt.Sprintf("builds on builder %q, not the one a docker/setup-buildx-action step of the job sets up (${{ steps.<id>.outputs.name }}): another builder builds whatever it likes from the context", b)
}

func checkImageBuilds(c *Context) []Finding {
	const name = "image-builds"
	var out []Finding
	c.eachJob(func(w *pipeline.Workflow, j *pipeline.Job) {
		for _, s := range c.flow(j) {
			if s.Action() != "docker/build-push-action" {
				continue
			}
			at := c.atStep(&out, name, w, j, s)
			for _, in := range slices.Sorted(maps.Keys(s.With)) {
				if v := strings.TrimSpace(s.With[in]); v != "" && buildReach(in, v) != "" {
					at("sets %s: %s; a build reads only its context", in, buildReach(in, v))
				}
			}
			if why := c.builderProblem(j, s); why != "" {
				at("%s", why)
			}
			if o := strings.TrimSpace(s.With["outputs"]); o != "" {
				at("sets outputs: (%s): the image goes where the build's outputs say, past its tags; push with push: true to the tags", o)
			}
			if !strings.EqualFold(strings.TrimSpace(s.With["push"]), "true") {
				continue
			}
			var repos []string
			for _, t := range strings.FieldsFunc(c.withValue(w, j, s, s.With["tags"]), func(r rune) bool { return r == '\n' || r == ',' }) {
				if r := imageRepository(strings.TrimSpace(t)); r != "" && !slices.Contains(repos, r) {
					repos = append(repos, r)
				}
			}
			if len(repos) > 1 {
				at("pushes the image to %d repositories (%s): a build pushes to the one repository where it is signed and deployed from", len(repos), strings.Join(repos, ", "))
			}
		}
	})
	return out
}

// imageRepository is the repository of an image reference: imageRef's, with the ':', '/' and
// '@' inside expressions (${{ ... }}) not counted.
func imageRepository(ref string) string {
	masked := expression.ReplaceAllStringFunc(ref, func(m string) string { return strings.Repeat("x", len(m)) })
	repo, _, _ := imageRef(masked)
	return ref[:len(repo)]
}
