package rules

import (
	"path"
	"slices"
	"strings"
	"unicode"

	"github.com/platform-template/template-api/test/workflows/pipeline"
	"github.com/platform-template/template-api/test/workflows/shell"
)

// Reviewed inputs (deploy and terraform families): a job that deploys or applies Terraform
// applies what was reviewed and judged, so it changes nothing of what it applies from. The
// checks before an apply read files of the checkout (the overlay, the plan file terraform plan
// made, the JSON the policy judged); a command that copies, downloads, extracts, edits or links
// over one of them after the checks (`cp other.tfplan tfplan`, `curl -o tfplan`, `kustomize
// edit add resource https://...`, `echo ... >> kustomization.yaml`) makes the apply take what
// no one reviewed and no policy read. Such a job writes its own files under $RUNNER_TEMP; the
// tools' own outputs are its only writes to the checkout: the plan (once), its JSON, and the
// image digest kustomize edit set image puts in the overlay (rule digest-references reads it).

func checkReviewedInputs(c *Context) []Finding {
	const name = "reviewed-inputs"
	var out []Finding
	c.eachJob(func(w *pipeline.Workflow, j *pipeline.Job) {
		cmds := c.commands(w, j)
		what := appliesWhat(cmds)
		if what == "" {
			return
		}
		applied := appliedPlans(cmds)
		planned := map[string]bool{}
		for _, cm := range cmds {
			at := c.atCommand(&out, name, w, j, cm, false)
			if why := editsCheckout(cm.cmd); why != "" {
				at("runs `%s` in a job that %s: it %s; the job applies the reviewed files as they were checked out", cm.cmd, what, why)
			}
			if terraform(cm.cmd) == "plan" {
				if f := planFile(cm.cmd); f != "" {
					p := path.Join(chdir(cm.cmd), f)
					if planned[p] {
						at("writes the plan file %s a second time (`%s`): the apply would take a plan other than the one the checks read", p, cm.cmd)
					}
					planned[p] = true
				}
			}
			for _, t := range writeTargets(cm.cmd, applied) {
				if !scratch(t.Text, cm.script) {
					at("writes %s in a job that %s: what it applies is the reviewed checkout and the judged plan, untouched; its own files go under $RUNNER_TEMP", t.Text, what)
				}
			}
		}
	})
	return out
}

// appliesWhat says what a job's commands apply ("deploys to a cluster", "applies Terraform"), or
// "" for a job that applies nothing.
func appliesWhat(cmds []command) string {
	switch {
	case slices.ContainsFunc(cmds, func(cm command) bool { return terraformChanges(cm.cmd) }):
		return "applies Terraform"
	case slices.ContainsFunc(cmds, func(cm command) bool { return deploys(cm.cmd) }):
		return "deploys to a cluster"
	}
	return ""
}

// appliedPlans are the plan files (directory/file) a job's terraform apply commands take.
func appliedPlans(cmds []command) map[string]bool {
	out := map[string]bool{}
	for _, cm := range cmds {
		if terraform(cm.cmd) != "apply" {
			continue
		}
		if f := planOperand(cm.cmd); f != "" {
			out[path.Join(chdir(cm.cmd), f)] = true
		}
	}
	return out
}

// editsCheckout says why a command changes checked-out files in place, or "".
func editsCheckout(cmd *shell.Command) string {
	switch base(cmd.Name) {
	case "kustomize":
		sub, i := cmd.Subcommand(nil)
		if sub != "edit" {
			return ""
		}
		rest := &shell.Command{Args: cmd.Args[i+1:]}
		verb, k := rest.Subcommand(nil)
		if verb == "set" && k+1 < len(rest.Args) && rest.Args[k+1].Text == "image" {
			return "" // the digest: rule digest-references reads it
		}
		return "changes the overlay beyond its image digest (resources, patches, namespace, labels)"
	case "patch":
		return "patches checked-out files"
	case "git":
		if sub, _ := cmd.Subcommand(gitValued); sub == "apply" || sub == "am" {
			return "patches checked-out files"
		}
	}
	return ""
}

// writeTargets lists the files and folders a command writes: those writtenFiles lists, and
// in-place edits of YAML and truncations. The JSON `terraform show -json` writes of an applied
// plan is the tool's output the policy reads, not counted.
func writeTargets(cmd *shell.Command, applied map[string]bool) []shell.Word {
	if terraform(cmd) == "show" && cmd.Has("-json") {
		if f := planOperand(cmd); f != "" && applied[path.Join(chdir(cmd), f)] {
			return nil
		}
	}
	out := writtenFiles(cmd)
	switch base(cmd.Name) {
	case "yq":
		if cmd.Has("-i", "--inplace") {
			if ops := cmd.Operands(nil); len(ops) > 1 {
				out = append(out, ops[1:]...)
			}
		}
	case "truncate":
		out = append(out, cmd.Operands(valued("-s", "--size", "-r", "--reference"))...)
	}
	return out
}

// scratch reports whether a path a command writes is outside what a job applies from: under
// $RUNNER_TEMP (or /tmp, or a folder mktemp made), a device, or one of the runner's own files
// (step summary, outputs; rule env-file-injection reads GITHUB_ENV and GITHUB_PATH). A path that
// climbs out with .. is none of them.
func scratch(p string, sc *shell.Script) bool {
	p = shell.Canonical(strings.Trim(strings.TrimSpace(p), `"'`))
	if underRunnerTemp(p) {
		return true
	}
	if strings.Contains(p, "..") {
		return false
	}
	for _, f := range []string{"GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_ENV", "GITHUB_PATH"} {
		if p == "$"+f || p == "${"+f+"}" {
			return true
		}
	}
	switch {
	case p == "-", strings.HasPrefix(p, "/dev/"), strings.HasPrefix(p, "/tmp/"), strings.HasPrefix(p, "$(mktemp"):
		return true
	}
	if v, ok := strings.CutPrefix(p, "$"); ok && sc != nil {
		v = strings.TrimPrefix(v, "{")
		end := strings.IndexFunc(v, func(r rune) bool { return r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		if end >= 0 {
			v = v[:end]
		}
		return slices.ContainsFunc(sc.Assigns, func(a shell.Assign) bool {
			return a.Name == v && strings.HasPrefix(strings.Trim(a.Value.Text, `"`), "$(mktemp")
		})
	}
	return false
}
