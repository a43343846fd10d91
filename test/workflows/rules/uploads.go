package rules

import (
	"path"
	"strings"

	"github.com/platform-template/template-api/test/workflows/pipeline"
	"github.com/platform-template/template-api/test/workflows/shell"
)

// Artifact uploads (supply family): whoever can read the repository can download its runs'
// artifacts, for as long as they are kept, and a pull request's run restores what the default
// branch saved in the Actions cache. A privileged job holds what must not leave it: the
// registry login in ~/.docker/config.json, the cluster's kubeconfig, a binary Terraform plan
// (which holds sensitive values in clear), the checkout's .git. It uploads only files it wrote
// for the purpose: under ${{ runner.temp }}, or named in the workspace.

// uploadActions are the actions that publish files of the runner, and where to: an artifact
// any reader of the repository downloads, or the Actions cache, which every later run of the
// branch and every pull request to it restores.
var uploadActions = map[string]string{
	"actions/upload-artifact": "as an artifact", "actions/upload-pages-artifact": "as an artifact",
	"actions/cache/save": "to the Actions cache", // actions/cache restores too: no-restored-caches refuses it
}

func checkArtifactUploads(c *Context) []Finding {
	const name = "artifact-uploads"
	var out []Finding
	c.privilegedJobs(func(w *pipeline.Workflow, j *pipeline.Job) {
		// The plans the job makes, binary and JSON: both hold sensitive values in clear (the
		// readable `terraform show` text masks them).
		plans := map[string]string{}
		for _, cm := range c.commands(w, j) {
			switch terraform(cm.cmd) {
			case "plan":
				if f := planFile(cm.cmd); f != "" {
					plans[path.Base(f)] = "a binary Terraform plan"
				}
			case "show":
				if cm.cmd.Has("-json") {
					for _, f := range cm.cmd.Stdout {
						plans[path.Base(shell.Canonical(f.Text))] = "a Terraform plan in JSON"
					}
				}
			}
		}
		for _, s := range c.flow(j) {
			where, ok := uploadActions[s.Action()]
			if !ok {
				continue
			}
			at := c.atStep(&out, name, w, j, s)
			if strings.EqualFold(strings.TrimSpace(s.With["include-hidden-files"]), "true") {
				at("uploads hidden files (include-hidden-files: true) from a privileged job: .git, .docker and the tools' state go with them")
			}
			for _, p := range strings.Split(s.With["path"], "\n") {
				p = strings.TrimSpace(p)
				if p == "" || strings.HasPrefix(p, "!") {
					continue
				}
				if why := uploadRisk(p, plans); why != "" {
					at("uploads %q %s from a privileged job: %s; others can read it there (upload what the job wrote for it, under ${{ runner.temp }} or named in the workspace)", p, where, why)
				}
			}
		}
	})
	return out
}

// uploadRisk says why a path of upload-artifact may publish what a privileged job must keep, or "".
func uploadRisk(p string, plans map[string]string) string {
	c := shell.Canonical(strings.Trim(p, `"'`))
	if underRunnerTemp(c) {
		return ""
	}
	switch {
	case strings.Contains(c, ".."):
		return "it climbs out of the workspace"
	case c == "~" || c == "$HOME" || c == "${HOME}" || strings.HasPrefix(homePath(c), "~/"):
		return "it is in the runner's home, where the registry login, the kubeconfig and the tools' credentials are"
	case strings.HasPrefix(c, "/"):
		return "it is outside the workspace and runner.temp (the runner's and the system's own files)"
	case strings.HasPrefix(c, "$"):
		return "it is only known at run time (the workspace whole, or the home)"
	}
	parts := strings.Split(strings.TrimPrefix(c, "./"), "/")
	if parts[0] == "" || parts[0] == "." || strings.Trim(parts[0], "*") == "" {
		return "it is the workspace whole"
	}
	for _, part := range parts {
		if strings.HasPrefix(part, ".") {
			return "it is or holds hidden files (" + part + ": .git, .docker, .terraform hold credentials and state)"
		}
	}
	base := parts[len(parts)-1]
	if what, ok := plans[base]; ok {
		return "it is " + what + ", which holds sensitive values in clear"
	}
	if base == "tfplan" || strings.HasSuffix(base, ".tfplan") {
		return "it is a binary Terraform plan, which holds sensitive values in clear"
	}
	return ""
}
