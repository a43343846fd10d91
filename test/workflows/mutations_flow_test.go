package workflows

import (
	"slices"
	"strings"

	"github.com/platform-template/template-api/test/workflows/mutate"
	"go.yaml.in/yaml/v4"
)

// Control flow: gates that run but do not gate.

// deployStep matches the steps that run kubectl apply.
func deployStep(p place) bool {
	return p.step != nil && slices.ContainsFunc(runCmds(p.step), func(c mutate.Command) bool {
		return len(c.Words) > 0 && c.Words[0] == "kubectl" && slices.Contains(c.Words, "apply")
	})
}

func pushStep(p place) bool {
	return p.step != nil && mutate.Uses(p.step) == "docker/build-push-action" && mutate.Str(with(p.step), "push") == "true"
}

// requiredJob matches the jobs of the workflows branch protection requires.
func requiredJob(p place) bool {
	return p.file == ".github/workflows/ci.yaml" || p.file == ".github/workflows/e2e.yaml"
}

func terraformApplyJob(p place) bool { return appliesTerraform(p.job.Node) }

func controlFlowOps() []operator {
	var ops []operator
	for _, coe := range []string{"true", "${{ true }}"} {
		ops = append(ops, operator{"control-flow", "scan with continue-on-error: " + coe, "scan-settings", func(g *gen) []variant {
			return g.steps(trivyStep, setKey("continue-on-error", coe))
		}})
	}
	for _, cond := range []string{"github.event_name == 'pull_request'", "${{ github.ref_type == 'tag' }}", "false", "${{ vars.SCAN == 'true' }}", "failure()"} {
		ops = append(ops, operator{"control-flow", "scan skipped unless " + cond, "scan-settings", func(g *gen) []variant {
			return g.steps(trivyStep, setKey("if", yamlString(cond)))
		}})
	}
	for _, cond := range []string{"always()", "${{ !cancelled() }}", "success() || failure()"} {
		ops = append(ops,
			operator{"control-flow", "push runs after a failed scan: if: " + cond, "scan-before-push", func(g *gen) []variant {
				return g.steps(pushStep, setKey("if", yamlString(cond)))
			}},
			operator{"control-flow", "deploy runs after a failed verification: if: " + cond, "verify-before-deploy", func(g *gen) []variant {
				return g.steps(deployStep, setKey("if", yamlString(cond)))
			}},
		)
	}
	for _, cond := range []string{"github.event_name != 'workflow_dispatch'", "github.event_name == 'workflow_run'", "${{ vars.VERIFY != 'false' }}"} {
		ops = append(ops, operator{"control-flow", "verification skipped unless " + cond, "verify-before-deploy", func(g *gen) []variant {
			return g.steps(verifyStep, setKey("if", yamlString(cond)))
		}})
	}
	ops = append(ops, operator{"control-flow", "verification with continue-on-error", "verify-before-deploy", func(g *gen) []variant {
		return g.steps(verifyStep, setKey("continue-on-error", "true"))
	}})
	// Terraform apply from anywhere.
	for _, cond := range []string{"always()", "${{ !cancelled() }}"} {
		ops = append(ops, operator{"control-flow", "apply job if: " + cond, "trusted-runs", func(g *gen) []variant {
			return g.jobs(terraformApplyJob, setKey("if", yamlString(cond)))
		}})
	}
	hasRefCond := func(p place) bool {
		return terraformApplyJob(p) && strings.Contains(mutate.Str(p.job.Node, "if"), "github.ref")
	}
	for _, cond := range []string{
		"${{ github.event_name == 'push' || github.event_name == 'workflow_dispatch' }}",
		"${{ github.ref == 'refs/heads/main' || github.event_name == 'pull_request' }}",
		"${{ startsWith(github.ref, 'refs/heads/') }}",
		"${{ github.event_name != 'pull_request' }}",
		"${{ github.event_name == 'push' }} || ${{ github.ref == 'refs/heads/main' }}",
	} {
		ops = append(ops, operator{"control-flow", "apply condition loosened to " + cond, "trusted-runs", func(g *gen) []variant {
			return g.jobs(hasRefCond, setKey("if", yamlString(cond)))
		}})
	}
	ops = append(ops,
		operator{"control-flow", "apply condition removed", "trusted-runs", func(g *gen) []variant {
			return g.jobs(hasRefCond, func(p place) bool { return mutate.Delete(p.job.Node, "if") })
		}},
		operator{"control-flow", "deploy trigger condition loosened to any finished build", "trusted-runs", func(g *gen) []variant {
			return g.jobs(func(p place) bool {
				return strings.Contains(mutate.Str(p.job.Node, "if"), "workflow_run.conclusion")
			}, setKey("if", yamlString("${{ github.event_name == 'workflow_dispatch' || github.event.workflow_run.event == 'push' }}")))
		}},
		operator{"control-flow", "deploy trigger accepts a build started by a pull request", "trusted-runs", func(g *gen) []variant {
			return g.jobs(func(p place) bool {
				return strings.Contains(mutate.Str(p.job.Node, "if"), "workflow_run.conclusion")
			}, setKey("if", yamlString("${{ github.event_name == 'workflow_dispatch' || github.event.workflow_run.conclusion == 'success' }}")))
		}},
		operator{"control-flow", "manual deploy from any branch", "trusted-runs", func(g *gen) []variant {
			return g.jobs(func(p place) bool {
				return strings.Contains(mutate.Str(p.job.Node, "if"), "workflow_run.conclusion")
			}, setKey("if", yamlString("${{ github.event_name == 'workflow_dispatch' || (github.event.workflow_run.conclusion == 'success' && github.event.workflow_run.event == 'push') }}")))
		}},
		operator{"control-flow", "apply no longer waits for a check job", "apply-after-checks", func(g *gen) []variant {
			// one variant per (apply job, check job it needs)
			var out []variant
			for _, f := range g.base.Workflows() {
				for i, j := range g.parse(f, g.base).Jobs() {
					if !appliesTerraform(j.Node) {
						continue
					}
					for _, n := range mutate.Needs(j.Node) {
						if n == "" || isEnvJob(g.parse(f, g.base), n) {
							continue
						}
						files := g.base.Clone()
						doc := g.parse(f, files)
						job := doc.Jobs()[i]
						mutate.SetNeeds(job.Node, slices.DeleteFunc(mutate.Needs(job.Node), func(x string) bool { return x == n }))
						files[f] = doc.Bytes()
						out = append(out, variant{target: strings.TrimPrefix(f, ".github/workflows/") + "/" + j.ID + " without " + n, files: files})
					}
				}
			}
			return out
		}},
		operator{"control-flow", "production no longer waits for staging", "deploy-order", func(g *gen) []variant {
			return g.jobs(func(p place) bool {
				return mutate.Str(p.job.Node, "environment") == "production" && len(mutate.Needs(p.job.Node)) > 0
			}, func(p place) bool {
				var keep []string
				for _, n := range mutate.Needs(p.job.Node) {
					if !isEnvJob(p.doc, n) {
						keep = append(keep, n)
					}
				}
				if len(keep) == len(mutate.Needs(p.job.Node)) {
					return false
				}
				if len(keep) == 0 {
					// the staging job carried the trigger condition: keep production on main
					mutate.SetStr(p.job.Node, "if", "${{ github.ref == 'refs/heads/main' && github.event_name == 'push' }}")
				}
				mutate.SetNeeds(p.job.Node, keep)
				return true
			})
		}},
		operator{"control-flow", "production runs even when staging fails: if: always() && on main", "deploy-order", func(g *gen) []variant {
			return g.jobs(func(p place) bool {
				return mutate.Str(p.job.Node, "environment") == "production"
			}, setKey("if", yamlString("${{ always() && github.ref == 'refs/heads/main' && github.event_name != 'pull_request' && (github.event_name != 'workflow_run' || github.event.workflow_run.event == 'push' && github.event.workflow_run.conclusion == 'success') }}")))
		}},
		operator{"control-flow", "a check job needed by apply has continue-on-error", "apply-after-checks", func(g *gen) []variant {
			var out []variant
			for _, f := range g.base.Workflows() {
				doc := g.parse(f, g.base)
				needed := map[string]bool{}
				for _, j := range doc.Jobs() {
					if appliesTerraform(j.Node) {
						for _, n := range mutate.Needs(j.Node) {
							needed[n] = !isEnvJob(doc, n)
						}
					}
				}
				out = append(out, g.jobs(func(p place) bool { return p.file == f && needed[p.job.ID] }, setKey("continue-on-error", "true"))...)
			}
			return out
		}},
		operator{"control-flow", "a required job has continue-on-error", "required-checks", func(g *gen) []variant {
			return g.jobs(requiredJob, setKey("continue-on-error", "true"))
		}},
	)
	for _, cond := range []string{"${{ !contains(github.event.pull_request.labels.*.name, 'skip-ci') }}", "${{ github.actor != 'dependabot[bot]' }}", "${{ github.event_name == 'push' }}"} {
		ops = append(ops, operator{"control-flow", "required job skipped unless " + cond, "required-checks", func(g *gen) []variant {
			return g.jobs(requiredJob, setKey("if", yamlString(cond)))
		}})
	}
	for _, event := range []string{"pull_request", "issue_comment", "repository_dispatch", "merge_group"} {
		ops = append(ops, operator{"control-flow", "the build also runs on " + event, "trusted-runs", func(g *gen) []variant {
			return g.workflows(func(f string, d *mutate.Doc) bool {
				return slices.ContainsFunc(d.Jobs(), func(j mutate.Job) bool { return pushesJob(j.Node) })
			}, func(f string, d *mutate.Doc) bool {
				mutate.Set(mutate.Get(d.Root, "on"), event, mutate.Node("{}"))
				return true
			})
		}})
	}
	ops = append(ops, operator{"control-flow", "make step skipped by a label", "required-checks", func(g *gen) []variant {
		return g.steps(requiredMake, setKey("if", yamlString("${{ !contains(github.event.pull_request.labels.*.name, 'skip-lint') }}")))
	}})
	return ops
}

// isEnvJob reports whether a job of the document runs in an environment.
func isEnvJob(d *mutate.Doc, id string) bool {
	for _, j := range d.Jobs() {
		if j.ID == id {
			return mutate.Get(j.Node, "environment") != nil
		}
	}
	return false
}

// Scope: every file under .github/, images and downloads in scripts, reusable workflows,
// runners, the plan job's role.

const compositeAction = ".github/actions/setup/action.yml"

// withComposite adds a composite action and makes the jobs that match use it first.
func withComposite(g *gen, action string, match func(p place) bool) []variant {
	var out []variant
	for _, v := range g.jobs(match, func(p place) bool {
		steps := mutate.Steps(p.job.Node)
		at := 0
		for i, s := range steps {
			if mutate.Uses(s) == "actions/checkout" {
				at = i + 1
			}
		}
		mutate.InsertStep(p.job.Node, at, mutate.Node("uses: ./.github/actions/setup"))
		return true
	}) {
		v.files[compositeAction] = []byte(action)
		out = append(out, v)
	}
	return out
}

func composite(steps string) string {
	return "name: setup\ndescription: shared setup\nruns:\n  using: composite\n  steps:\n" + steps
}

func scopeOps() []operator {
	deployJob := func(p place) bool { return deploysJob(p.job.Node) }
	return []operator{
		{"scope", "composite action with an inner action by tag", "pinned-actions", func(g *gen) []variant {
			return first(2, withComposite(g, composite("    - uses: actions/setup-node@v4\n      with:\n        node-version: \"24.11.0\"\n"), requiredJob))
		}},
		{"scope", "composite action that pipes a download into a shell", "pinned-tools", func(g *gen) []variant {
			return first(2, withComposite(g, composite("    - shell: bash\n      run: curl -sSfL https://raw.githubusercontent.com/example/tool/main/install.sh | bash\n"), requiredJob))
		}},
		{"scope", "composite action that pastes an input into its script", "no-expressions-in-run", func(g *gen) []variant {
			return first(1, withComposite(g, "name: setup\ndescription: x\ninputs:\n  version:\n    description: v\nruns:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo \"${{ inputs.version }}\"\n", requiredJob))
		}},
		{"scope", "composite action that deploys before the verification", "verify-before-deploy", func(g *gen) []variant {
			return withComposite(g, composite("    - shell: bash\n      run: kubectl apply -k \"$OVERLAY\" --selector "+selector+"\n"), deployJob)
		}},
		{"scope", "composite action that runs an image by tag", "pinned-images", func(g *gen) []variant {
			return first(2, withComposite(g, composite("    - shell: bash\n      run: docker run --rm alpine:latest true\n"), requiredJob))
		}},
		{"scope", "composite action on node20", "retired-runtime", func(g *gen) []variant {
			return first(1, withComposite(g, "name: setup\ndescription: x\nruns:\n  using: node20\n  main: index.js\n", requiredJob))
		}},
		{"scope", "a scanner image at latest in a script", "pinned-images", func(g *gen) []variant {
			return g.jobs(func(p place) bool { return pushesJob(p.job.Node) || requiredJob(p) && jobRuns(p.job.Node, "make") }, func(p place) bool {
				mutate.InsertStep(p.job.Node, len(mutate.Steps(p.job.Node)), mutate.Node(`run: docker run --rm aquasec/trivy:latest image template-api:pr`))
				return true
			})
		}},
		{"scope", "an installer piped from a branch into a shell", "pinned-tools", func(g *gen) []variant {
			return g.jobs(func(p place) bool { return len(mutate.Steps(p.job.Node)) > 0 && p.job.ID != "resolve" }, func(p place) bool {
				mutate.InsertStep(p.job.Node, len(mutate.Steps(p.job.Node)), mutate.Node(`run: curl -sSfL https://raw.githubusercontent.com/example/tool/main/install.sh | sh`))
				return true
			})
		}},
		{"scope", "a tool installed at @latest", "pinned-tools", func(g *gen) []variant {
			return g.steps(func(p place) bool { return p.step != nil && stepRuns(p.step, "go", "install") }, func(p place) bool {
				return editRun(p.step, []string{"go", "install"}, func(s string, c mutate.Command) string {
					return c.ReplaceCommand(s, func(x string) string { return x[:strings.LastIndex(x, "@")] + "@latest" })
				})
			})
		}},
		{"scope", "a tool installed from a branch", "pinned-tools", func(g *gen) []variant {
			return g.steps(func(p place) bool { return p.step != nil && stepRuns(p.step, "go", "install") }, func(p place) bool {
				return editRun(p.step, []string{"go", "install"}, func(s string, c mutate.Command) string {
					return c.ReplaceCommand(s, func(x string) string { return x[:strings.LastIndex(x, "@")] + "@master" })
				})
			})
		}},
		{"scope", "a reusable workflow by branch", "pinned-actions", func(g *gen) []variant {
			return reusable(g, "needs: lint\npermissions: {contents: read}\nuses: actions/reusable-workflows/.github/workflows/check.yml@main\n")
		}},
		{"scope", "a reusable workflow by SHA without its version", "pinned-actions", func(g *gen) []variant {
			return reusable(g, "needs: lint\npermissions: {contents: read}\nuses: actions/reusable-workflows/.github/workflows/check.yml@0123456789abcdef0123456789abcdef01234567\n")
		}},
		{"scope", "a reusable workflow handed every secret", "reusable-workflows", func(g *gen) []variant {
			return reusable(g, "needs: lint\npermissions: {contents: read}\nuses: ./.github/workflows/e2e.yaml\nsecrets: inherit\n")
		}},
		{"scope", "a reusable workflow caller without permissions", "permissions", func(g *gen) []variant {
			return reusable(g, "needs: lint\nuses: ./.github/workflows/e2e.yaml\n")
		}},
		{"scope", "pull-request code on a self-hosted runner", "runners", func(g *gen) []variant {
			return g.jobs(prJob, setKey("runs-on", "[self-hosted, linux]"))
		}},
		{"scope", "pull-request code on a runner named at run time", "runners", func(g *gen) []variant {
			return first(2, g.jobs(prJob, setKey("runs-on", yamlString("${{ github.event.pull_request.head.ref }}"))))
		}},
		{"scope", "the pull-request plan assumes the apply role", "pull-request-isolation", func(g *gen) []variant {
			return planRole(g, "AWS_TERRAFORM_APPLY_ROLE_ARN")
		}},
		{"scope", "the pull-request plan assumes the push role", "pull-request-isolation", func(g *gen) []variant {
			return planRole(g, "AWS_BUILD_ROLE_ARN")
		}},
		{"scope", "the pull-request plan runs in an environment", "pull-request-isolation", func(g *gen) []variant {
			return g.jobs(planJob, setKey("environment", "staging"))
		}},
		{"scope", "the pull-request plan applies", "pull-request-isolation", func(g *gen) []variant {
			return g.steps(func(p place) bool { return planJob(p) && p.step != nil && stepHas(p.step, "terraform", "plan") }, func(p place) bool {
				return editHas(p.step, "terraform", []string{"plan"}, func(s string, c mutate.Command) string {
					return c.ReplaceStatement(s, func(x string) string { return x + "\nterraform -chdir=\"terraform/envs/$ENVIRONMENT\" apply tfplan" })
				})
			})
		}},
	}
}

// prJob matches jobs of workflows triggered by pull requests, that have no if: of their own.
func prJob(p place) bool {
	on := mutate.Get(p.doc.Root, "on")
	return mutate.Get(on, "pull_request") != nil && mutate.Get(p.job.Node, "if") == nil && mutate.Get(p.job.Node, "needs") == nil
}

// planJob matches a job that runs terraform plan and no apply (the pull-request plan).
func planJob(p place) bool {
	return slices.ContainsFunc(mutate.Steps(p.job.Node), func(s *yaml.Node) bool { return stepHas(s, "terraform", "plan") }) &&
		!appliesTerraform(p.job.Node) && strings.Contains(mutate.Str(p.job.Node, "if"), "pull_request")
}

// stepHas reports whether a step runs name with every one of words among its arguments.
func stepHas(step *yaml.Node, name string, words ...string) bool {
	return slices.ContainsFunc(runCmds(step), func(c mutate.Command) bool { return c.Has(name, words...) })
}

// planRole points the plan job's role at another role variable: in its matrix when the role
// comes from there, else in role-to-assume.
func planRole(g *gen, role string) []variant {
	return g.jobs(planJob, func(p place) bool {
		changed := false
		if inc := mutate.Get(mutate.Get(mutate.Get(p.job.Node, "strategy"), "matrix"), "include"); inc != nil {
			for _, item := range inc.Content {
				for i := 0; i+1 < len(item.Content); i += 2 {
					if strings.Contains(item.Content[i+1].Value, "ROLE") {
						item.Content[i+1] = mutate.Scalar(role)
						changed = true
					}
				}
			}
		}
		if !changed {
			for _, s := range mutate.Steps(p.job.Node) {
				if mutate.Uses(s) == "aws-actions/configure-aws-credentials" {
					mutate.SetStr(with(s), "role-to-assume", "${{ vars."+role+" }}")
					changed = true
				}
			}
		}
		return changed
	})
}

// reusable adds a job calling a reusable workflow to ci.yaml.
func reusable(g *gen, job string) []variant {
	return g.workflows(func(f string, d *mutate.Doc) bool { return f == ".github/workflows/ci.yaml" }, func(f string, d *mutate.Doc) bool {
		jobs := mutate.Get(d.Root, "jobs")
		jobs.Content = append(jobs.Content, mutate.Scalar("shared"), mutate.Node(job))
		return true
	})
}

// editHas rewrites the first command of a step's script that is name with words among its
// arguments.
func editHas(step *yaml.Node, name string, words []string, with func(script string, c mutate.Command) string) bool {
	script := mutate.Str(step, "run")
	cmds, err := mutate.Commands(script)
	if err != nil {
		return false
	}
	for _, c := range cmds {
		if c.Has(name, words...) {
			mutate.SetStr(step, "run", with(script, c))
			return true
		}
	}
	return false
}
