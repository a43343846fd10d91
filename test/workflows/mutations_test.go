package workflows

import (
	"maps"
	"slices"
	"strings"

	"github.com/platform-template/template-api/test/workflows/mutate"
	"go.yaml.in/yaml/v4"
)

// The operators of the mutation suite, by class. Each finds its targets by what the workflows
// do: a step that uses trivy-action, a job that runs kubectl apply, a step that runs cosign
// verify, a job that applies Terraform...

const selector = "platform-template.io/applied-by=ci-deployer"

func operators() []operator {
	var ops []operator
	for _, class := range [][]operator{yamlOps(), shellOps(), controlFlowOps(), scopeOps(), patternOps(), weakenedOps(), supplyOps(), tokenOps(), hygieneOps()} {
		ops = append(ops, class...)
	}
	return ops
}

// trivyStep matches the steps that use trivy-action.
func trivyStep(p place) bool {
	return p.step != nil && mutate.Uses(p.step) == "aquasecurity/trivy-action"
}

// buildScan matches the trivy-action step of a job that pushes.
func buildScan(p place) bool { return trivyStep(p) && pushesJob(p.job.Node) }

func pushesJob(job *yaml.Node) bool {
	for _, s := range mutate.Steps(job) {
		if mutate.Uses(s) == "docker/build-push-action" && mutate.Str(mutate.Get(s, "with"), "push") == "true" {
			return true
		}
	}
	return false
}

func with(step *yaml.Node) *yaml.Node { return mutate.Map(step, "with") }

// setWith returns an edit that sets a with: input.
func setWith(key, value string) func(p place) bool {
	return func(p place) bool { mutate.SetStr(with(p.step), key, value); return true }
}

// editScript returns an edit that rewrites a step's run: script with edit; it applies where the
// script changes.
func editScript(edit func(run string) string) func(p place) bool {
	return func(p place) bool {
		old := mutate.Str(p.step, "run")
		mutate.SetStr(p.step, "run", edit(old))
		return mutate.Str(p.step, "run") != old
	}
}

// replaceInRun returns an edit that replaces old with new in a step's run: script, the first n
// times (n < 0: every time), as strings.Replace does; it applies where that changes the script.
func replaceInRun(old, new string, n int) func(p place) bool {
	return editScript(func(run string) string { return strings.Replace(run, old, new, n) })
}

// setEnv returns an edit that sets a variable in the env: of the step, or of the job for a job.
func setEnv(name, value string) func(p place) bool {
	return func(p place) bool {
		n := p.step
		if n == nil {
			n = p.job.Node
		}
		mutate.SetStr(mutate.Map(n, "env"), name, value)
		return true
	}
}

func setKey(key, value string) func(p place) bool {
	return func(p place) bool {
		n := p.step
		if n == nil {
			n = p.job.Node
		}
		mutate.Set(n, key, mutate.Node(value))
		return true
	}
}

// anchorAlias makes value an anchor on a new env entry of the job (before its steps) and
// returns an alias to it.
func anchorAlias(job *yaml.Node, name, value string) *yaml.Node {
	anchor := mutate.Scalar(value) // plain, as a person would type it: true, 0
	anchor.Anchor = name
	env := mutate.Get(job, "env")
	if env == nil {
		env = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		job.Content = append([]*yaml.Node{mutate.Scalar("env"), env}, job.Content...)
	}
	env.Content = append([]*yaml.Node{mutate.Scalar("X_" + strings.ToUpper(name)), anchor}, env.Content...)
	// The job's env must come before its steps for the alias to follow its anchor.
	for i := 0; i+1 < len(job.Content); i += 2 {
		if job.Content[i].Value == "env" && i > 0 {
			k, v := job.Content[i], job.Content[i+1]
			job.Content = append(job.Content[:i], job.Content[i+2:]...)
			job.Content = append([]*yaml.Node{k, v}, job.Content...)
			break
		}
	}
	return &yaml.Node{Kind: yaml.AliasNode, Value: name, Alias: anchor}
}

func yamlOps() []operator {
	return []operator{
		{"yaml", "scan exit-code is an alias named one that holds \"0\"", "scan-settings", func(g *gen) []variant {
			return g.steps(trivyStep, func(p place) bool {
				mutate.Set(with(p.step), "exit-code", anchorAlias(p.job.Node, "one", "0"))
				return true
			})
		}},
		{"yaml", "contents is an alias named read that holds write", "permissions", func(g *gen) []variant {
			return g.jobs(func(p place) bool { return mutate.Str(mutate.Get(p.job.Node, "permissions"), "id-token") == "write" }, func(p place) bool {
				perms := mutate.Get(p.job.Node, "permissions")
				anchor := mutate.Scalar("write")
				anchor.Anchor = "read"
				var content []*yaml.Node
				for i := 0; i+1 < len(perms.Content); i += 2 {
					if perms.Content[i].Value == "contents" {
						continue
					}
					v := perms.Content[i+1]
					if perms.Content[i].Value == "id-token" {
						v = anchor
					}
					content = append(content, perms.Content[i], v)
				}
				perms.Content = append(content, mutate.Scalar("contents"), &yaml.Node{Kind: yaml.AliasNode, Value: "read", Alias: anchor})
				return true
			})
		}},
		{"yaml", "a merge key turns the scan's exit code off", "workflow-syntax", func(g *gen) []variant {
			return g.steps(trivyStep, func(p place) bool {
				w := with(p.step)
				w.Content = append([]*yaml.Node{mutate.Scalar("<<"), mutate.Node(`{exit-code: "0"}`)}, w.Content...)
				return true
			})
		}},
		{"yaml", "a duplicate permissions key grants write-all", "workflow-syntax", func(g *gen) []variant {
			return g.jobs(func(p place) bool { return mutate.Str(mutate.Get(p.job.Node, "permissions"), "id-token") == "write" }, func(p place) bool {
				p.job.Node.Content = append(p.job.Node.Content, mutate.Scalar("permissions"), mutate.Scalar("write-all"))
				return true
			})
		}},
		{"yaml", "continue-on-error on the verification, through an alias", "verify-before-deploy", func(g *gen) []variant {
			return g.steps(verifyStep, func(p place) bool {
				mutate.Set(p.step, "continue-on-error", anchorAlias(p.job.Node, "yes", "true"))
				return true
			})
		}},
	}
}

// hidden deploys: each writes `kubectl apply` another way.
var hiddenDeploys = map[string]string{
	"boolean flag before the subcommand": `kubectl --warnings-as-errors apply -k "$OVERLAY" --selector ` + selector,
	"valued flag before the subcommand":  `kubectl -n template-api apply -k "$OVERLAY" --selector ` + selector,
	"bash -c":                            `bash -c 'kubectl apply -k "$OVERLAY" --selector ` + selector + `'`,
	"sh -c":                              `sh -c "kubectl apply -k $OVERLAY --selector ` + selector + `"`,
	"eval":                               `eval "kubectl apply -k $OVERLAY --selector ` + selector + `"`,
	"subshell":                           `( kubectl apply -k "$OVERLAY" --selector ` + selector + ` )`,
	"function":                           "deploy() { kubectl apply -k \"$1\" --selector " + selector + "; }\ndeploy \"$OVERLAY\"",
	"timeout wrapper":                    `timeout 600 kubectl apply -k "$OVERLAY" --selector ` + selector,
	"env wrapper":                        `env KUBECTL_COMMAND_HEADERS=0 kubectl apply -k "$OVERLAY" --selector ` + selector,
	"kustomize build piped to apply":     `kustomize build "$OVERLAY" | kubectl apply -f - --selector ` + selector,
	"here-document to bash":              "bash <<'EOF'\nkubectl apply -k \"$OVERLAY\" --selector " + selector + "\nEOF",
	"xargs":                              `echo "$OVERLAY" | xargs kubectl apply --selector ` + selector + ` -k`,
	"kubectl patch":                      `kubectl -n template-api patch deployment template-api -p '{"spec":{"paused":false}}'`,
	"helm upgrade":                       `helm upgrade --install template-api ./chart -n template-api`,
}

// masks: each makes `cosign verify` run without its failure stopping anything.
var masks = map[string]func(script string, c mutate.Command) string{
	"|| true": func(s string, c mutate.Command) string {
		return c.ReplaceStatement(s, func(x string) string { return x + " || true" })
	},
	"|| echo": func(s string, c mutate.Command) string {
		return c.ReplaceStatement(s, func(x string) string { return x + ` || echo "verification failed"` })
	},
	"|| :": func(s string, c mutate.Command) string {
		return c.ReplaceStatement(s, func(x string) string { return x + " || :" })
	},
	"set +e": func(s string, c mutate.Command) string { return "set +e\n" + s },
	"if condition": func(s string, c mutate.Command) string {
		return c.ReplaceStatement(s, func(x string) string { return "if " + x + "; then :; fi" })
	},
	"negated": func(s string, c mutate.Command) string {
		return c.ReplaceStatement(s, func(x string) string { return "! " + x })
	},
	"pipeline to tee": func(s string, c mutate.Command) string {
		return c.ReplaceStatement(s, func(x string) string { return x + " | tee /tmp/verify.log" })
	},
	"background": func(s string, c mutate.Command) string {
		return c.ReplaceStatement(s, func(x string) string { return x + " &" })
	},
	"function never called": func(s string, c mutate.Command) string {
		return c.ReplaceStatement(s, func(x string) string { return "check() {\n" + x + "\n}" })
	},
	"bash -c that ends with success": func(s string, c mutate.Command) string {
		return c.ReplaceStatement(s, func(x string) string {
			return "bash -c " + mutate.SingleQuote(strings.ReplaceAll(x, "\\\n", " ")+"; echo done")
		})
	},
	"EXIT trap that exits 0": func(s string, c mutate.Command) string { return "trap 'exit 0' EXIT\n" + s },
	"skipped on manual runs": func(s string, c mutate.Command) string {
		return "if [ \"$GITHUB_EVENT_NAME\" = workflow_dispatch ]; then exit 0; fi\n" + s
	},
	"left of &&": func(s string, c mutate.Command) string {
		return c.ReplaceStatement(s, func(x string) string { return x + " && echo verified" })
	},
}

func shellOps() []operator {
	var ops []operator
	for _, name := range sortedKeys(hiddenDeploys) {
		script := hiddenDeploys[name]
		ops = append(ops, operator{"shell", "deploy before the verification: " + name, "verify-before-deploy", func(g *gen) []variant {
			return g.jobs(func(p place) bool { return deploysJob(p.job.Node) }, func(p place) bool {
				return insertBefore(p.job.Node, isVerify, mutate.Node("name: warm up\nrun: "+yamlString(script)))
			})
		}})
	}
	for _, name := range sortedKeys(masks) {
		mask := masks[name]
		ops = append(ops, operator{"shell", "verification masked: " + name, "verify-before-deploy", func(g *gen) []variant {
			return g.steps(verifyStep, func(p place) bool { return editRun(p.step, []string{"cosign", "verify"}, mask) })
		}})
	}
	ops = append(ops,
		operator{"shell", "deploy through an action before the verification", "verify-before-deploy", func(g *gen) []variant {
			return g.jobs(func(p place) bool { return deploysJob(p.job.Node) }, func(p place) bool {
				return insertBefore(p.job.Node, isVerify, mutate.Node("uses: azure/k8s-deploy@0123456789abcdef0123456789abcdef01234567 # v5.0.0\nwith:\n  manifests: k8s/overlays/staging\n  namespace: template-api"))
			})
		}},
		operator{"shell", "verification in a shell without errexit", "verify-before-deploy", func(g *gen) []variant {
			return g.steps(verifyStep, func(p place) bool {
				mutate.SetStr(p.step, "shell", "bash {0}")
				return true
			})
		}},
		operator{"shell", "the plan's failure ignored before apply", "terraform-apply", func(g *gen) []variant {
			return g.steps(func(p place) bool {
				return p.step != nil && stepHas(p.step, "terraform", "plan") && appliesTerraform(p.job.Node)
			},
				func(p place) bool {
					return editHas(p.step, "terraform", []string{"plan"}, masks["|| true"])
				})
		}},
		operator{"weakened", "the applied plan narrowed or changed on its command line (-target, -replace, -var)", "terraform-apply", func(g *gen) []variant {
			var out []variant
			for _, flag := range []string{"-target=module.stack.module.network", "-replace=module.stack.module.database.aws_db_instance.this", "-var=db_deletion_protection=false", "-var-file=../../../.ci/extra.tfvars"} {
				out = append(out, g.steps(func(p place) bool {
					return p.step != nil && stepHas(p.step, "terraform", "plan") && appliesTerraform(p.job.Node)
				}, func(p place) bool {
					return editHas(p.step, "terraform", []string{"plan"}, func(s string, c mutate.Command) string {
						return c.ReplaceCommand(s, func(x string) string { return strings.Replace(x, " plan ", " plan "+flag+" ", 1) })
					})
				})...)
			}
			return out
		}},
		operator{"weakened", "init takes providers past the lock file before an apply", "terraform-apply", func(g *gen) []variant {
			var out []variant
			initStep := func(p place) bool {
				return p.step != nil && stepHas(p.step, "terraform", "init") && appliesTerraform(p.job.Node)
			}
			for _, flag := range []string{"-upgrade", "-plugin-dir=.ci/plugins", "-lockfile=readonly -lockfile="} {
				out = append(out, g.steps(initStep, func(p place) bool {
					return editHas(p.step, "terraform", []string{"init"}, func(s string, c mutate.Command) string {
						return c.ReplaceCommand(s, func(x string) string { return x + " " + flag })
					})
				})...)
			}
			// Without -lockfile=readonly, init writes into the lock file whatever the
			// configuration asks for that it does not hold (all of it, once a change deletes it).
			return append(out, g.steps(initStep, func(p place) bool {
				return editHas(p.step, "terraform", []string{"init"}, func(s string, c mutate.Command) string {
					return c.ReplaceCommand(s, func(x string) string { return strings.Replace(x, "-lockfile=readonly", "", 1) })
				})
			})...)
		}},
		operator{"weakened", "the apply works on another state than its environment's, or an unlocked or unencrypted one", "terraform-apply", func(g *gen) []variant {
			var out []variant
			edit := func(sub, flag string) {
				out = append(out, g.steps(func(p place) bool {
					return p.step != nil && stepHas(p.step, "terraform", sub) && appliesTerraform(p.job.Node)
				}, func(p place) bool {
					return editHas(p.step, "terraform", []string{sub}, func(s string, c mutate.Command) string {
						return c.ReplaceCommand(s, func(x string) string { return strings.Replace(x, " "+sub, " "+sub+" "+flag, 1) })
					})
				})...)
			}
			for _, flag := range []string{
				`-backend-config="key=template-api/production.tfstate" -backend-config="key=template-api/staging.tfstate"`,
				`-backend-config="use_lockfile=false"`, `-backend-config=encrypt=false`, `-backend=false`,
				`-backend-config="endpoints={s3=\"https://203.0.113.7\"}"`, `-backend-config=.ci/backend.hcl`,
				`-backend-config="key=$STATE_KEY"`, `-migrate-state`,
			} {
				edit("init", flag)
			}
			for _, flag := range []string{"-lock=false", "-refresh=false", "-state=/tmp/empty.tfstate", "-generate-config-out=generated.tf"} {
				edit("plan", flag)
			}
			edit("apply", "-lock=false")
			out = append(out, g.steps(func(p place) bool {
				return p.step != nil && stepHas(p.step, "terraform", "plan") && appliesTerraform(p.job.Node)
			}, editScript(func(s string) string { return "terraform workspace select -or-create scratch\n" + s }))...)
			return out
		}},
		operator{"weakened", "the apply reads its plan elsewhere than the checkout", "terraform-apply", func(g *gen) []variant {
			applyStep := func(p place) bool {
				return p.step != nil && stepHas(p.step, "terraform", "apply") && appliesTerraform(p.job.Node)
			}
			return append(g.steps(applyStep, setKey("working-directory", "${{ runner.temp }}")),
				g.steps(applyStep, editScript(func(s string) string { return `cd "$RUNNER_TEMP"` + "\n" + s }))...)
		}},
		operator{"weakened", "the policy check judges a plan elsewhere than the checkout", "terraform-apply", func(g *gen) []variant {
			return g.steps(func(p place) bool {
				return p.step != nil && stepHas(p.step, "make", "tf-policy") && appliesTerraform(p.job.Node)
			}, editScript(func(s string) string { return `cd "$RUNNER_TEMP"` + "\n" + s }))
		}},
		operator{"weakened", "the plan judged with another environment's rules", "terraform-apply", func(g *gen) []variant {
			return g.steps(func(p place) bool {
				return p.step != nil && stepHas(p.step, "make", "tf-policy") && appliesTerraform(p.job.Node) && mutate.Get(p.job.Node, "environment") != nil
			}, func(p place) bool {
				other := "staging"
				if mutate.Str(p.job.Node, "environment") == "staging" {
					other = "production"
				}
				return editHas(p.step, "make", []string{"tf-policy"}, func(s string, c mutate.Command) string {
					return c.ReplaceCommand(s, func(x string) string {
						return strings.Replace(x, `ENVIRONMENT="$ENVIRONMENT"`, "ENVIRONMENT="+other, 1)
					})
				})
			})
		}},
		operator{"shell", "a make target's failure ignored", "required-checks", func(g *gen) []variant {
			return g.steps(requiredMake, func(p place) bool { return editRun(p.step, []string{"make"}, masks["|| true"]) })
		}},
		operator{"shell", "make told to ignore errors (-i)", "required-checks", func(g *gen) []variant {
			return g.steps(requiredMake, func(p place) bool {
				return editRun(p.step, []string{"make"}, func(s string, c mutate.Command) string {
					return c.ReplaceCommand(s, func(x string) string { return strings.Replace(x, "make", "make -i", 1) })
				})
			})
		}},
		operator{"shell", "make's target emptied by a variable override", "required-checks", func(g *gen) []variant {
			return g.steps(requiredMake, func(p place) bool {
				return editRun(p.step, []string{"make"}, func(s string, c mutate.Command) string {
					return c.ReplaceCommand(s, func(x string) string { return x + " TEST_TARGETS= LINT_TARGETS=" })
				})
			})
		}},
	)
	return ops
}

// requiredMake matches the steps of the required workflows that run make.
func requiredMake(p place) bool {
	return p.step != nil && (p.file == ".github/workflows/ci.yaml" || p.file == ".github/workflows/e2e.yaml") && stepRuns(p.step, "make")
}

func yamlString(s string) string {
	if strings.Contains(s, "\n") {
		return "|\n  " + strings.ReplaceAll(s, "\n", "\n  ")
	}
	b, _ := yaml.Marshal(s)
	return strings.TrimSpace(string(b))
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
