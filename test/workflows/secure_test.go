package workflows

import (
	"slices"
	"strings"
	"testing"

	"github.com/platform-template/template-api/test/workflows/mutate"
	"github.com/platform-template/template-api/test/workflows/pins"
	"github.com/platform-template/template-api/test/workflows/rules"
	"go.yaml.in/yaml/v4"
)

// Secure changes the rules must accept: other ways of writing the same guarantees, stricter
// settings, and the changes other parts of the project will make (a policy gate before
// Terraform apply, SLSA provenance attested keyless next to the SBOM).

// secureVariant is one secure change; cfg adjusts the rules' configuration when the change
// needs it (a release added to the table, as a person adding a pin would).
type secureVariant struct {
	name string
	gen  func(g *gen) []variant
	cfg  func(c *rules.Config)
}

// A reusable workflow of this repository, itself following every rule.
const reusableCheck = `name: reusable check
on:
  workflow_call:
permissions: {}
concurrency:
  group: reusable-check-${{ github.ref }}
  cancel-in-progress: false
jobs:
  check:
    runs-on: ubuntu-24.04
    timeout-minutes: 10
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@df4cb1c069e1874edd31b4311f1884172cec0e10 # v6.0.3
        with:
          persist-credentials: false
      - run: make lint
`

func secureVariants() []secureVariant {
	verify := func(edit func(script string, c mutate.Command) string) func(g *gen) []variant {
		return func(g *gen) []variant {
			return g.steps(verifyStep, func(p place) bool { return editRun(p.step, []string{"cosign", "verify"}, edit) })
		}
	}
	return []secureVariant{
		{"a reusable workflow of another repository pinned by SHA with its version", func(g *gen) []variant {
			return reusable(g, "needs: lint\npermissions: {contents: read}\nuses: actions/reusable-workflows/.github/workflows/check.yml@0123456789abcdef0123456789abcdef01234567 # v1.2.0\n")
		}, func(c *rules.Config) {
			// The release a person would add to pins/actions.tsv, with its source; here a test row.
			if err := c.Pins.Add(pins.Release{Action: "actions/reusable-workflows", Version: "v1.2.0", Commit: "0123456789abcdef0123456789abcdef01234567", Runs: "composite", Source: "test row"}); err != nil {
				panic(err)
			}
		}},
		{"a reusable workflow of this repository", func(g *gen) []variant {
			vs := reusable(g, "needs: lint\npermissions: {contents: read}\nuses: ./.github/workflows/reusable-check.yaml\n")
			for _, v := range vs {
				v.files[".github/workflows/reusable-check.yaml"] = []byte(reusableCheck)
			}
			return vs
		}, nil},
		{"a composite action of this repository with pinned inner actions", func(g *gen) []variant {
			return first(1, withComposite(g, composite("    - uses: actions/setup-go@924ae3a1cded613372ab5595356fb5720e22ba16 # v6.5.0\n      with:\n        go-version: \"1.26.8\"\n    - shell: bash\n      env:\n        WHO: ${{ github.actor }}\n      run: echo \"set up for $WHO\"\n"), func(p place) bool {
				return requiredJob(p) && p.job.ID == "lint"
			}))
		}, nil},
		{"anchors and aliases that repeat the same safe values", func(g *gen) []variant {
			return g.workflows(func(f string, d *mutate.Doc) bool { return f == ".github/workflows/ci.yaml" }, func(f string, d *mutate.Doc) bool {
				var anchor *yaml.Node
				for _, j := range d.Jobs() {
					for _, s := range mutate.Steps(j.Node) {
						if mutate.Uses(s) != "actions/checkout" || len(mutate.Get(s, "with").Content) != 2 {
							continue
						}
						if anchor == nil {
							anchor = mutate.Get(s, "with")
							anchor.Anchor = "no-token"
							continue
						}
						mutate.Set(s, "with", &yaml.Node{Kind: yaml.AliasNode, Value: "no-token", Alias: anchor})
					}
				}
				return anchor != nil
			})
		}, nil},
		{"the deployer's selector as -l, the kubeconfig's default path named", func(g *gen) []variant {
			a := g.steps(deployStep, editScript(func(s string) string { return strings.Replace(s, "--selector ", "-l ", 1) }))
			k := g.steps(kubeconfigStep, editScript(func(s string) string {
				return strings.Replace(s, "update-kubeconfig", "update-kubeconfig --kubeconfig ~/.kube/config --alias deploy", 1)
			}))
			return append(first(1, a), first(1, k)...)
		}, nil},
		{"verification in a shell with pipefail, piped to tee", func(g *gen) []variant {
			return g.steps(verifyStep, func(p place) bool {
				mutate.SetStr(p.step, "shell", "bash")
				return editRun(p.step, []string{"cosign", "verify"}, func(s string, c mutate.Command) string {
					return c.ReplaceStatement(s, func(x string) string { return x + " | tee /tmp/verify.log" })
				})
			})
		}, nil},
		{"verification as `if ! ...; then exit 1; fi`", verify(func(s string, c mutate.Command) string {
			return c.ReplaceStatement(s, func(x string) string {
				return "if ! " + x + "; then\n  echo \"::error::the signature does not verify\"\n  exit 1\nfi"
			})
		}), nil},
		{"verification as `... || exit 1`", verify(func(s string, c mutate.Command) string {
			return c.ReplaceStatement(s, func(x string) string { return x + " || exit 1" })
		}), nil},
		{"verification under set -euo pipefail and a timeout", verify(func(s string, c mutate.Command) string {
			return "set -euo pipefail\n" + c.ReplaceCommand(s, func(x string) string { return "timeout 600 " + x })
		}), nil},
		{"identity with --flag=value and the server URL variable", func(g *gen) []variant {
			return g.steps(verifyStep, func(p place) bool {
				old := mutate.Str(p.step, "run")
				s := strings.ReplaceAll(old, `--certificate-identity "$identity"`, `--certificate-identity="$identity"`)
				s = strings.ReplaceAll(s, `identity="https://github.com/`, `identity="${GITHUB_SERVER_URL}/`)
				mutate.SetStr(p.step, "run", s)
				return s != old
			})
		}, nil},
		{"signature and attestation verified in two steps", func(g *gen) []variant {
			return g.steps(verifyStep, func(p place) bool {
				script := mutate.Str(p.step, "run")
				c, ok := mutate.FindCommand(script, "cosign", "verify-attestation")
				if !ok {
					return false
				}
				first := c.ReplaceStatement(script, func(string) string { return "" })
				second := strings.SplitN(script, "\n", 2)[0] + "\n" + c.Statement(script)
				mutate.SetStr(p.step, "run", first)
				mutate.InsertStep(p.job.Node, mutate.StepIndex(p.job.Node, p.step)+1, mutate.Node("name: verify the attestation\nrun: "+yamlString(second)))
				return true
			})
		}, nil},
		{"kubectl with global flags before apply", func(g *gen) []variant {
			return g.steps(deployStep, replaceInRun("kubectl apply", "kubectl --namespace template-api --request-timeout 60s apply", 1))
		}, nil},
		{"server-side apply with a field manager", func(g *gen) []variant {
			return g.steps(deployStep, replaceInRun("kubectl apply", "kubectl apply --server-side --field-manager=ci-deployer", 1))
		}, nil},
		{"the overlay rendered by kustomize and piped to apply, with pipefail", func(g *gen) []variant {
			return g.steps(deployStep, func(p place) bool {
				old := mutate.Str(p.step, "run")
				mutate.SetStr(p.step, "shell", "bash")
				mutate.SetStr(p.step, "run", strings.Replace(old, `kubectl apply -k "$OVERLAY"`, `kustomize build "$OVERLAY" | kubectl apply -f -`, 1))
				return old != mutate.Str(p.step, "run")
			})
		}, nil},
		{"the overlay rendered by kustomize restricted to its folder, spelled out", func(g *gen) []variant {
			return g.steps(deployStep, func(p place) bool {
				old := mutate.Str(p.step, "run")
				mutate.SetStr(p.step, "shell", "bash")
				mutate.SetStr(p.step, "run", strings.Replace(old, `kubectl apply -k "$OVERLAY"`,
					`kustomize build --load-restrictor=LoadRestrictionsRootOnly --enable-helm=false "$OVERLAY" | kubectl apply -f -`, 1))
				return old != mutate.Str(p.step, "run")
			})
		}, nil},
		{"both builds on the builder the job sets up, named by its output", func(g *gen) []variant {
			return g.jobs(func(p place) bool { return pushesJob(p.job.Node) }, func(p place) bool {
				found := false
				for _, st := range mutate.Steps(p.job.Node) {
					switch mutate.Uses(st) {
					case "docker/setup-buildx-action":
						mutate.SetStr(st, "id", "buildx")
						found = true
					case "docker/build-push-action":
						mutate.SetStr(with(st), "builder", "${{ steps.buildx.outputs.name }}")
					}
				}
				return found
			})
		}, nil},
		{"a policy check of the plan before apply (required)", func(g *gen) []variant {
			return g.workflows(func(f string, d *mutate.Doc) bool {
				return slices.ContainsFunc(d.Jobs(), func(j mutate.Job) bool { return appliesTerraform(j.Node) })
			}, func(f string, d *mutate.Doc) bool {
				for _, j := range d.Jobs() {
					if !appliesTerraform(j.Node) {
						continue
					}
					for _, st := range mutate.Steps(j.Node) {
						if !stepHas(st, "terraform", "plan") {
							continue
						}
						run := mutate.Str(st, "run")
						chdir := ""
						for _, c := range runCmds(st) {
							if c.Has("terraform", "plan") {
								chdir = c.Text(run)[len("terraform "):strings.Index(c.Text(run), " plan")]
							}
						}
						mutate.SetStr(st, "run", run+"\nterraform "+chdir+" show -json tfplan > \"$RUNNER_TEMP/plan.json\"")
						mutate.InsertStep(j.Node, mutate.StepIndex(j.Node, st)+1, mutate.Node("name: check the plan against the policies\nrun: make policy-plan PLAN_JSON=\"$RUNNER_TEMP/plan.json\""))
						break
					}
				}
				return true
			})
		}, func(c *rules.Config) { c.RequirePlanPolicy = true }},
		{"a policy check given the plan file itself (required)", func(g *gen) []variant {
			return g.workflows(func(f string, d *mutate.Doc) bool {
				return slices.ContainsFunc(d.Jobs(), func(j mutate.Job) bool { return appliesTerraform(j.Node) })
			}, func(f string, d *mutate.Doc) bool {
				for _, j := range d.Jobs() {
					steps := mutate.Steps(j.Node)
					for i, st := range steps {
						if stepHas(st, "terraform", "apply") {
							mutate.InsertStep(j.Node, i, mutate.Node("name: check the plan against the policies\nrun: make policy-plan PLAN=\"terraform/envs/$ENVIRONMENT/tfplan\""))
							break
						}
					}
				}
				return true
			})
		}, func(c *rules.Config) { c.RequirePlanPolicy = true }},
		{"SLSA provenance attested keyless after the signature, and verified at deploy", func(g *gen) []variant {
			var out []variant
			for _, v := range g.steps(func(p place) bool { return p.step != nil && stepRuns(p.step, "cosign", "attest") }, func(p place) bool {
				mutate.InsertStep(p.job.Node, mutate.StepIndex(p.job.Node, p.step)+1, mutate.Node(`name: Attest the provenance
env:
  DIGEST: ${{ steps.push.outputs.digest }}
run: |
  docker buildx imagetools inspect "${IMAGE}@${DIGEST}" --format '{{ json .Provenance.SLSA }}' > "$RUNNER_TEMP/provenance.json"
  cosign attest --yes --type slsaprovenance1 --predicate "$RUNNER_TEMP/provenance.json" "${IMAGE}@${DIGEST}"`))
				return true
			}) {
				// and deploy verifies it too
				d, err := mutate.Parse(".github/workflows/deploy.yaml", v.files[".github/workflows/deploy.yaml"])
				if err != nil {
					continue
				}
				for _, j := range d.Jobs() {
					for _, s := range mutate.Steps(j.Node) {
						if !isVerify(s) {
							continue
						}
						run := mutate.Str(s, "run")
						c, ok := mutate.FindCommand(run, "cosign", "verify-attestation")
						if ok {
							mutate.SetStr(s, "run", c.ReplaceStatement(run, func(x string) string {
								return x + "\n" + strings.Replace(x, "--type cyclonedx", "--type slsaprovenance1", 1)
							}))
						}
					}
				}
				v.files[".github/workflows/deploy.yaml"] = d.Bytes()
				out = append(out, v)
			}
			return out
		}, nil},
		{"upload-artifact at another listed release on node24", func(g *gen) []variant {
			return first(1, g.steps(func(p place) bool { return p.step != nil && mutate.Uses(p.step) == "actions/upload-artifact" }, func(p place) bool {
				u := mutate.Get(p.step, "uses")
				u.Value, u.LineComment = "actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "# v7.0.0"
				return true
			}))
		}, nil},
		{"a stricter scan: MEDIUM too, and secrets", func(g *gen) []variant {
			return g.steps(buildScan, func(p place) bool {
				mutate.SetStr(with(p.step), "severity", "MEDIUM,HIGH,CRITICAL")
				mutate.SetStr(with(p.step), "scanners", "vuln,secret")
				return true
			})
		}, nil},
		{"apply on main only, written without the event", func(g *gen) []variant {
			return g.jobs(func(p place) bool {
				return terraformApplyJob(p) && strings.Contains(mutate.Str(p.job.Node, "if"), "github.ref")
			}, setKey("if", yamlString("${{ github.ref == 'refs/heads/main' }}")))
		}, nil},
		{"explicit continue-on-error: false and if: success()", func(g *gen) []variant {
			return g.jobs(pushJob, func(p place) bool {
				for _, s := range mutate.Steps(p.job.Node) {
					switch {
					case trivyStep(place{step: s}):
						mutate.Set(s, "continue-on-error", mutate.Node("false"))
					case pushStep(place{step: s}):
						mutate.Set(s, "if", mutate.Node("${{ success() }}"))
					}
				}
				return true
			})
		}, nil},
		{"CI on pull requests to main only", func(g *gen) []variant {
			return g.workflows(func(f string, d *mutate.Doc) bool { return f == ".github/workflows/ci.yaml" }, func(f string, d *mutate.Doc) bool {
				mutate.Set(mutate.Get(d.Root, "on"), "pull_request", mutate.Node("{branches: [main]}"))
				return true
			})
		}, nil},
		{"a value reaching a privileged script through env:", func(g *gen) []variant {
			return g.jobs(func(p place) bool { return deploysJob(p.job.Node) }, func(p place) bool {
				mutate.InsertStep(p.job.Node, len(mutate.Steps(p.job.Node)), mutate.Node("name: report\nenv:\n  RUN_URL: ${{ github.server_url }}/${{ github.repository }}/actions/runs/${{ github.run_id }}\nrun: echo \"deployed from $RUN_URL\" >> \"$GITHUB_STEP_SUMMARY\""))
				return true
			})
		}, nil},
		{"a privileged job that appends to PATH, sets harmless tool variables and reads the cloud", func(g *gen) []variant {
			return first(2, g.jobs(func(p place) bool { return deploysJob(p.job.Node) }, func(p place) bool {
				env := mutate.Map(p.job.Node, "env")
				mutate.SetStr(env, "TF_IN_AUTOMATION", "1")
				mutate.SetStr(env, "DOCKER_BUILDKIT", "1")
				mutate.InsertStep(p.job.Node, len(mutate.Steps(p.job.Node)), mutate.Node(`name: report
run: |
  export PATH="$PATH:$HOME/.local/bin"
  aws eks describe-cluster --name "$EKS_CLUSTER_NAME" --query cluster.version
  kubectl -n template-api get deployment template-api -o wide
  git --no-pager log -1 --format=%H`))
				return true
			}))
		}, nil},
		{"a privileged job that names its committer, reads settings and writes its own files under runner.temp", func(g *gen) []variant {
			return first(2, g.jobs(func(p place) bool { return deploysJob(p.job.Node) }, func(p place) bool {
				mutate.InsertStep(p.job.Node, len(mutate.Steps(p.job.Node)), mutate.Node(`name: notes
run: |
  git config --global user.email ci@example.com
  git config --global --add safe.directory "$GITHUB_WORKSPACE"
  git config --get remote.origin.url
  go env GOPATH GOPROXY
  kubectl config current-context
  echo "deployed" | tee "$RUNNER_TEMP/notes.txt"
  cp "$RUNNER_TEMP/notes.txt" "$RUNNER_TEMP/notes.bak"
  dir=$(mktemp -d)
  kubectl -n template-api get deployment template-api -o yaml > "$dir/live.yaml"`))
				return true
			}))
		}, nil},
		{"caching left on in jobs that hold no power (tests, scans)", func(g *gen) []variant {
			return first(2, g.steps(func(p place) bool {
				return !privilegedJob(p) && strings.HasPrefix(mutate.Uses(p.step), "actions/setup-go")
			}, func(p place) bool {
				mutate.SetStr(mutate.Map(p.step, "with"), "cache", "true")
				return true
			}))
		}, nil},
		{"checkout of the triggering build's commit, spelled out", func(g *gen) []variant {
			return g.steps(func(p place) bool {
				return privilegedJob(p) && strings.HasPrefix(mutate.Uses(p.step), "actions/checkout")
			}, func(p place) bool {
				mutate.SetStr(mutate.Map(p.step, "with"), "ref", "${{ github.sha }}")
				mutate.SetStr(mutate.Map(p.step, "with"), "repository", "${{ github.repository }}")
				return true
			})
		}, nil},
	}
}

func TestSecureVariantsPass(t *testing.T) {
	base := realFiles(t)
	g := &gen{t: t, base: base}
	n := 0
	for _, sv := range secureVariants() {
		vs := sv.gen(g)
		if len(vs) == 0 {
			t.Errorf("secure variant %q finds nothing to change in the real workflows", sv.name)
			continue
		}
		for _, v := range vs {
			n++
			t.Run(sv.name+"/"+v.target, func(t *testing.T) {
				validMutation(t, base, v.files)
				cfg := config(t)
				if sv.cfg != nil {
					sv.cfg(&cfg)
				}
				for _, f := range check(t, v.files, cfg) {
					t.Errorf("refused: %s", f)
				}
			})
		}
	}
	t.Logf("%d secure variants of the real workflows, all accepted", n)
	if n < 15 {
		t.Errorf("%d secure variants; the suite keeps at least 15", n)
	}
}
