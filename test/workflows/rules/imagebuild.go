package rules

import (
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
	}
	return ""
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
				if why := buildReach(in, strings.TrimSpace(s.With[in])); why != "" && strings.TrimSpace(s.With[in]) != "" {
					at("sets %s: %s; a build reads only its context", in, why)
				}
			}
			if strings.TrimSpace(s.With["outputs"]) != "" {
				at("sets outputs: (%s): the image goes where the build's outputs say, past its tags; push with push: true to the tags", strings.TrimSpace(s.With["outputs"]))
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

// imageRepository is the repository of an image reference: all but its tag and digest. A tag
// follows the last ':' after the last '/' (a registry's port comes before it); the ':' and '/'
// of an expression (${{ ... }}) do not count.
func imageRepository(ref string) string {
	masked := exprRef.ReplaceAllStringFunc(ref, func(m string) string { return strings.Repeat("x", len(m)) })
	if i := strings.Index(masked, "@"); i >= 0 {
		ref, masked = ref[:i], masked[:i]
	}
	if i := strings.LastIndex(masked, ":"); i > strings.LastIndex(masked, "/") {
		ref = ref[:i]
	}
	return ref
}

var exprRef = regexp.MustCompile(`\$\{\{.*?\}\}`)
