package workflows

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/platform-template/template-api/test/internal/repo"
	"github.com/platform-template/template-api/test/workflows/cond"
	"github.com/platform-template/template-api/test/workflows/mutate"
	"github.com/platform-template/template-api/test/workflows/pipeline"
)

// What this repository's build and deploy must do beyond the security rules (package rules):
// the behaviour the rest of the project counts on. Read from the model by meaning, each shown
// failing on a copy of the real tree with one change.

var stepDigestOutput = regexp.MustCompile(`^\$\{\{\s*steps\.[A-Za-z0-9_-]+\.outputs\.digest\s*\}\}$`)

// contracts lists what the tree lacks.
func contracts(repo *pipeline.Repo, appImage string) []string {
	var missing []string
	builds, deploys := 0, 0
	for _, w := range repo.Workflows {
		for _, j := range w.Jobs {
			flow := repo.Flow(j)
			push := slices.IndexFunc(flow, func(s *pipeline.Step) bool {
				return s.Action() == "docker/build-push-action" && s.With["push"] == "true"
			})
			if push >= 0 {
				builds++
				missing = append(missing, buildContract(w, j, flow)...)
			}
			if slices.ContainsFunc(flow, func(s *pipeline.Step) bool { return strings.Contains(s.Run, "kubectl apply") }) {
				deploys++
				if !slices.ContainsFunc(flow, func(s *pipeline.Step) bool { return setsImage(s.Run, appImage) }) {
					missing = append(missing, fmt.Sprintf("deploy job %s sets the image %s= in its overlay", j.ID, appImage))
				}
				for _, want := range []string{"workflow_run", "workflow_dispatch"} {
					if !slices.ContainsFunc(w.Triggers, func(t *pipeline.Trigger) bool { return t.Event == want }) {
						missing = append(missing, fmt.Sprintf("%s deploys after a build (workflow_run) and by hand (workflow_dispatch): no %s", w.Path, want))
					}
				}
			}
		}
	}
	if builds == 0 {
		missing = append(missing, "a job that builds and pushes the image")
	}
	if deploys == 0 {
		missing = append(missing, "a job that deploys")
	}
	return missing
}

func buildContract(w *pipeline.Workflow, j *pipeline.Job, flow []*pipeline.Step) []string {
	var missing []string
	scan := slices.IndexFunc(flow, func(s *pipeline.Step) bool { return s.Action() == "aquasecurity/trivy-action" })
	if scan < 0 || flow[scan].With["ignore-unfixed"] != "true" {
		missing = append(missing, "the build's scan fails on fixable vulnerabilities only (ignore-unfixed: true), the policy docs/architecture.md states")
	}
	if scan >= 0 {
		// The SARIF reaches code scanning even when the scan failed the job.
		failed := cond.Scenarios()[0].Values()
		failed["steps."+strings.ToLower(flow[scan].ID)+".outcome"] = "failure"
		uploads := slices.ContainsFunc(flow[scan:], func(s *pipeline.Step) bool {
			if s.Action() != "github/codeql-action/upload-sarif" {
				return false
			}
			c, err := cond.Parse(s.If)
			return err == nil && c.Eval(cond.Env{Values: failed, Status: cond.Status{Success: cond.False, Failure: cond.True, Cancelled: cond.False}}) == cond.True
		})
		if !uploads {
			missing = append(missing, "the scan's SARIF is uploaded to code scanning even when the scan fails")
		}
	}
	if !slices.ContainsFunc(mapValues(j.Outputs), func(v string) bool { return stepDigestOutput.MatchString(v) }) {
		missing = append(missing, fmt.Sprintf("build job %s outputs the pushed digest (deploy and the artifact read it)", j.ID))
	}
	return missing
}

// setsImage reports whether a script runs `kustomize edit set image NAME=...`.
func setsImage(script, name string) bool {
	cmds, err := mutate.Commands(script)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(cmds, func(c mutate.Command) bool {
		return c.Is("kustomize", "edit", "set", "image") && slices.ContainsFunc(c.Words, func(w string) bool { return strings.HasPrefix(w, name+"=") })
	})
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func TestPipelineContracts(t *testing.T) {
	base := realFiles(t)
	cfg := config(t)
	if missing := contracts(pipeline.New(repo.MustRoot(t), base), cfg.AppImage); len(missing) > 0 {
		t.Fatalf("the real tree lacks: %s", strings.Join(missing, "; "))
	}
	g := &gen{t: t, base: base}
	cases := []struct {
		name, want string
		gen        func(g *gen) []variant
	}{
		{"scan of unfixed vulnerabilities too", "ignore-unfixed", func(g *gen) []variant {
			return g.steps(buildScan, func(p place) bool { return mutate.Delete(with(p.step), "ignore-unfixed") })
		}},
		{"SARIF only on success", "uploaded to code scanning even when the scan fails", func(g *gen) []variant {
			return g.steps(func(p place) bool {
				return p.step != nil && mutate.Uses(p.step) == "github/codeql-action/upload-sarif" && pushesJob(p.job.Node)
			}, setKey("if", yamlString("${{ success() }}")))
		}},
		{"no digest output", "outputs the pushed digest", func(g *gen) []variant {
			return g.jobs(pushJob, func(p place) bool {
				outs := mutate.Get(p.job.Node, "outputs")
				return outs != nil && mutate.Delete(outs, "digest")
			})
		}},
		{"no manual deploy", "workflow_dispatch", func(g *gen) []variant {
			return g.workflows(func(f string, d *mutate.Doc) bool {
				return slices.ContainsFunc(d.Jobs(), func(j mutate.Job) bool { return deploysJob(j.Node) })
			}, func(f string, d *mutate.Doc) bool {
				return mutate.Delete(mutate.Get(d.Root, "on"), "workflow_dispatch")
			})
		}},
		{"another image set in the overlay", "sets the image template-api=", func(g *gen) []variant {
			return g.steps(func(p place) bool { return p.step != nil && stepRuns(p.step, "kustomize", "edit") }, replaceInRun("template-api=", "api=", -1))
		}},
	}
	for _, tc := range cases {
		vs := tc.gen(g)
		if len(vs) == 0 {
			t.Errorf("%s: nothing to change in the real tree", tc.name)
		}
		for _, v := range vs {
			t.Run(tc.name+"/"+v.target, func(t *testing.T) {
				missing := contracts(pipeline.New(repo.MustRoot(t), v.files), cfg.AppImage)
				if !slices.ContainsFunc(missing, func(m string) bool { return strings.Contains(m, tc.want) }) {
					t.Errorf("want a missing %q, got %q", tc.want, missing)
				}
			})
		}
	}
}
