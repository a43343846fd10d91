// Package rules holds the pipeline's rules: what every file under .github/ must hold to, each
// a function of the repository's .github/ tree that returns the places it is broken and why.
// The rules reason about what a workflow does, not how it is spelled: YAML as GitHub reads it
// (package pipeline), run: scripts through a shell parser (package shell), if: conditions in
// every situation a workflow can start in (package cond), and pinned actions against the
// releases they claim to be (package pins).
//
// All is the catalog: every rule's name and guarantee, by family. Each family's checks are in a
// file of their own: supply.go (what code runs: actions, images,
// tools), token.go (what the job's token and cloud identity can do), scan.go (the image scan
// gate), deploy.go (verification before deploy, the deployer's scope, environments),
// terraform.go (apply), signing.go (keyless signatures by digest), checks.go (the checks CI
// requires on every pull request), hygiene.go (timeouts, concurrency, readable YAML).
package rules

import (
	"fmt"
	"sort"

	"github.com/platform-template/template-api/test/workflows/pins"
	"github.com/platform-template/template-api/test/workflows/pipeline"
)

// Finding is one rule broken at one place.
type Finding struct {
	Rule    string
	Path    string
	Line    int
	Job     string
	Message string
}

func (f Finding) String() string {
	where := f.Path
	if f.Line > 0 {
		where = fmt.Sprintf("%s:%d", f.Path, f.Line)
	}
	if f.Job != "" {
		return fmt.Sprintf("%s: [%s] job %s: %s", where, f.Rule, f.Job, f.Message)
	}
	return fmt.Sprintf("%s: [%s] %s", where, f.Rule, f.Message)
}

// Rule is one rule a reviewer would hold every workflow to.
type Rule struct {
	Name string
	// Guarantee is what the rule makes true of the pipeline, in one sentence.
	Guarantee string
	check     func(*Context) []Finding
}

// All returns every rule, in the order they are reported: the catalog of the pipeline's rules,
// by family (each family's checks are in the file named beside it).
func All() []Rule {
	return []Rule{
		// reading (hygiene.go)
		{"workflow-syntax", "every workflow and composite action reads the same to GitHub and to the rules: valid syntax, no duplicate keys, no YAML merge keys (GitHub refuses them; anchors and aliases are resolved as GitHub does), conditions that parse", checkWorkflowSyntax},
		// supply (supply.go)
		{"pinned-actions", "every action and reusable workflow (in workflows and in the repository's composite actions) is pinned to a full 40-hex commit SHA with its version in a `# vX.Y.Z` comment; docker:// images by digest", checkPinnedActions},
		{"action-owners", "actions and reusable workflows come only from the owners the repository trusts (a look-alike owner is named as such)", checkActionOwners},
		{"action-release", "every pinned SHA is the commit of the release its comment names, in the table of releases found in public material (pins/actions.tsv); an unknown pair is refused until it is listed", checkActionRelease},
		{"compromised-releases", "no action release and no Trivy version known to have been compromised (trivy-action up to 0.34.2, setup-trivy before 0.2.6, Trivy 0.69.4-0.69.6, tj-actions/changed-files up to 45.0.7)", checkCompromised},
		{"retired-runtime", "no action whose pinned release runs on a runtime GitHub has retired (node12, node16, node20)", checkRetiredRuntime},
		{"pinned-images", "container and service images, the BuildKit image, the SBOM generator, docker actions and images run in scripts (docker run/pull/create) are pinned by digest", checkPinnedImages},
		{"no-restored-caches", "a privileged job (OIDC, environment, write scopes) restores nothing from the Actions cache, which every run on the branch can write: no actions/cache, caching turned off where an action caches by default (setup-go, trivy-action, setup-buildx's binary: `cache: false`), none asked of the others (setup-node, -python, -java, build cache-from)", checkNoRestoredCaches},
		{"artifact-sources", "a privileged job takes artifacts only from its own run or the build that started it, of this repository, never into the workspace where it checked out its code (actions/download-artifact with run-id, repository and path, gh run download with its run, -R and -D; not through gh api)", checkArtifactSources},
		{"artifact-uploads", "a privileged job uploads as artifacts (or saves to the Actions cache) only files it wrote for them, under runner.temp or named in the workspace: never its home (registry login, kubeconfig), files outside the workspace, the workspace whole, hidden files (.git, .docker, .terraform; no include-hidden-files) or a binary Terraform plan", checkArtifactUploads},
		{"trusted-checkout", "a privileged job works on the commit of its own run: actions/checkout of github.sha, github.ref or the triggering build's head_sha, of this repository only (from the run's own server, without submodules), and no script switches to other code (git checkout, switch, pull, reset, merge, clone..., gh pr checkout)", checkTrustedCheckout},
		{"tool-environment", "a privileged job sets no variable that changes what its tools run, fetch or trust (BASH_ENV, LD_PRELOAD, PATH but at its end, TF_CLI_ARGS and Terraform's provider sources, SIGSTORE_*/TUF_ROOT/COSIGN_*, DOCKER_CONFIG/DOCKER_HOST/BUILDKIT_HOST, GOPROXY/GONOSUMDB/GOFLAGS, AWS_ENDPOINT_URL, HOME/KUBECONFIG/GH_REPO, a trust store or proxy, ACTIONS_ALLOW_UNSECURE_COMMANDS...), in env: or in a script, nor writes the same change as configuration (go env -w, git config, /etc/hosts, a folder on PATH, ~/.netrc, ~/.docker, .git/hooks...) or gives it as an action's input (a download mirror, a proxy, a remote builder)", checkToolEnvironment},
		{"dependabot-settings", "Dependabot waits at least 3 days after a release before proposing it (cooldown), never lets a package manager run the updated code with the registries' credentials (insecure-external-code-execution), and replaces no ecosystem's registry", checkDependabotSettings},
		{"image-builds", "an image build pushes to one repository only (every tag of the same repository, no outputs: of its own) and its RUN steps reach nothing beyond the context: no secrets, secret files or variables, SSH agent, entitlements (security.insecure, network.host) or other network", checkImageBuilds},
		{"pinned-tools", "tools are installed at a fixed version: no `@latest` or branch for go install/run, no unversioned npx/npm/pip installs, no script piped from a download into a shell, no download from a branch or `latest` URL, setup actions given an exact version", checkPinnedTools},
		// token (token.go)
		{"permissions", "the workflow grants nothing by default (permissions: {} or read-only); every job, reusable-workflow callers included, declares its own, and a write scope only where a step needs it (id-token for OIDC and keyless signing, security-events for SARIF, attestations for GitHub attestations)", checkPermissions},
		{"checkout-credentials", "actions/checkout never leaves the token in .git/config (persist-credentials: false)", checkCheckoutCredentials},
		{"no-pull-request-target", "no workflow runs on pull_request_target (a fork's code with this repository's token and secrets)", checkNoPullRequestTarget},
		{"no-expressions-in-run", "no ${{ }} expression is pasted into code: a script (run:, composite run:, github-script), a step's or a default shell:, a container step's entrypoint and args; values reach scripts through env:", checkNoExpressionsInRun},
		{"no-static-cloud-credentials", "no stored credential is read anywhere (any secrets.* but GITHUB_TOKEN, secrets: inherit, access keys, passwords or key files given to login actions, credential variables): cloud access comes from OIDC roles", checkNoLongLivedCredentials},
		{"role-source", "a job assumes the cloud role the workflow names (a literal ARN or a repository variable), never one given by an input, an event, a matrix or an earlier step; no role chaining, no sts assume-role in scripts", checkRoleSource},
		{"reusable-workflows", "a job calling a reusable workflow passes no secrets wholesale (secrets: inherit)", checkReusableWorkflows},
		{"runners", "a job that can run for a pull request runs on a GitHub-hosted runner (no self-hosted labels, runner groups or labels chosen at run time)", checkRunners},
		{"pull-request-isolation", "a job that can run for a pull request has no environment, no write scope but security-events, assumes no role a privileged job uses, and pushes, signs, deploys and applies nothing", checkPullRequestIsolation},
		{"env-file-injection", "a privileged job (OIDC, environment, write scopes) never writes to $GITHUB_ENV or $GITHUB_PATH, through which a value would change every later step", checkEnvFileInjection},
		{"no-printed-credentials", "a privileged job never prints a credential it holds: a login password or token is piped only into a login that reads standard input (docker login --password-stdin), no credential file or raw kubeconfig is shown, no dump of every variable, and no script touches the runner's own tokens (ACTIONS_ID_TOKEN_REQUEST_TOKEN, ACTIONS_RUNTIME_TOKEN)", checkNoPrintedCredentials},
		{"shell-readable", "a privileged job runs only code the rules can read: no command or script known only at run time (eval, bash -c of a variable, a pipe into a shell), no inline code of other languages, no shell given more than its script and plain options (bash -c '...' {0}, --rcfile, -l), no JavaScript or Docker action of the repository (only composite ones, whose steps the rules read), no program downloaded or written at run time (only the repository's files, the system's, and what its make builds in .run/ and .tools/)", checkShellReadable},
		// scan (scan.go)
		{"scan-settings", "every Trivy scan that runs fails the job on findings (exit-code not 0), covers HIGH and CRITICAL, keeps its scanners and package types, skips no path, reads no ignore file, policy, VEX or config that could drop findings (none in the repository root either), uses a fresh database from the default source, and installs the Trivy it runs", checkScanSettings},
		{"scan-before-push", "a job that pushes an image first runs a Trivy image scan that gates the push (no if: that skips it, no continue-on-error, no || true; the push cannot run after it fails) of the image it then pushes (the tag a local build loaded, and a push build with the same inputs)", checkScanBeforePush},
		// deploy (deploy.go)
		{"verify-before-deploy", "a job that changes a cluster first runs `cosign verify`, and `cosign verify-attestation` of each piece of evidence admission demands (a CycloneDX SBOM, a SLSA v1 provenance), of the very image it deploys, with the exact identity of this repository's signing workflow on refs/heads/main and GitHub's issuer, no insecure flag, and the checks gate the deploy (they run wherever it runs, their failure stops it)", checkVerifyBeforeDeploy},
		{"deploy-scope", "the only change a deploy job makes to a cluster is `kubectl apply` of its own environment's overlay, read from the reviewed checkout (no working-directory, cd or pushd elsewhere before it), restricted to the deployer's objects by their label selector, into the application's namespace, without --force, --force-conflicts, --prune or another field manager; wherever a command hides (find -exec, su -c, wrappers); the cluster is reached through kubectl only (read-only subcommands besides the apply: no proxy, port-forward, plugin, raw token, HTTP client), as the job's role on the cluster its kubeconfig names (no --as, --token, --context, --server, --kubeconfig, --insecure-skip-tls-verify; a kubeconfig that assumes no other role), and the job's AWS calls only read (describe, list, get) besides the registry login and kubeconfig", checkDeployScope},
		{"reviewed-inputs", "a job that deploys or applies Terraform applies the checkout and the plan its checks read, untouched: it writes nothing but under $RUNNER_TEMP (no copy, download, extraction or in-place edit over the overlay, the plan file or the JSON the policy judged; no kustomize edit but set image, no patch or git apply), and makes its plan file once", checkReviewedInputs},
		{"deploy-environment", "a job that deploys or applies Terraform runs in a GitHub environment named literally, and a kubectl apply is followed by a wait for the rollout", checkDeployEnvironment},
		{"trusted-runs", "a job that pushes, signs, deploys, applies Terraform or uses an environment runs only for trusted runs: pushes to main or release tags, manual or scheduled runs on main, and successful builds of main pushes (never for pull requests, other branches or failed builds)", checkTrustedRuns},
		{"deploy-order", "a production job that deploys or applies waits for the staging job that does the same, and does not run when that one fails or is skipped", checkDeployOrder},
		// terraform (terraform.go)
		{"terraform-apply", "Terraform changes only through `terraform apply <plan file>` of a plan made earlier in the same job and directory, both gated (no destroy, no -auto-approve without a plan, no import or state surgery; the plan made without -target, -replace, -var or -var-file, after an init that keeps to the lock file: no -upgrade, -plugin-dir or -lockfile other than readonly; and to its environment's own state: backend settings only bucket, key, region, encrypt=true, use_lockfile=true, kms_key_id on the command line, a key naming the job's environment and no other, no -backend=false or -migrate-state, no workspace switch; plan and apply locked, refreshed, on the backend, from the reviewed checkout: no -lock=false, -refresh=false, -state or -generate-config-out, no working-directory or cd elsewhere before them); when the job checks the plan against the policies (a command reading `terraform show -json` of it), that check gates the apply and judges it with its own environment's rules", checkTerraformApply},
		{"apply-after-checks", "a job that applies Terraform waits for every check job of its workflow (tests, scans) and does not run when one of them fails or is skipped", checkApplyAfterChecks},
		// signing (signing.go)
		{"keyless-signing", "cosign signs and attests keyless with the job's OIDC identity (no key, no password, no token from elsewhere, transparency log on) from a job granted id-token: write", checkKeylessSigning},
		{"digest-references", "cosign sign/attest/verify and the image set into what is deployed (kustomize edit set image, kubectl set image) name the image by digest; a build signs and attests exactly the digest its push reported, attestations after the signature, and every cosign command of a job names that same digest", checkDigestReferences},
		{"verify-settings", "every cosign verification anywhere requires the exact identity of this repository's signing workflow and GitHub's OIDC issuer, and passes no flag that skips a check", checkVerifySettings},
		{"build-evidence", "a build that pushes an image signs it and attests, with cosign, the evidence admission verifies: a CycloneDX SBOM (--type cyclonedx) and a SLSA v1 provenance (--type slsaprovenance1), each written by an evidence generator of the job and by nothing else (not downloaded, handwritten, edited after, or a file of the repository)", checkBuildEvidence},
		// checks (checks.go)
		{"required-checks", "the required workflows (ci, e2e) run on every pull request to main (no paths, paths-ignore or types filter), every job runs for every such pull request (no if: on labels, actors or events that can skip it, no continue-on-error), each `make` they run gates its job (no || true, -i, -n, -q, -t or variable overrides), and together they run `make lint` and every target of `make test` (the matrix taken from `make ci-matrix`)", checkRequiredChecks},
		// hygiene (hygiene.go)
		{"timeouts", "every job sets a fixed timeout-minutes, so a hung job does not hold a runner and its token for six hours", checkTimeouts},
		{"concurrency", "every workflow (or each of its jobs) sets a concurrency group, and a workflow that pushes, deploys or applies never cancels a run in progress except for pull requests", checkConcurrency},
	}
}

// Config is what the rules need to know about this repository beyond its .github/ tree.
type Config struct {
	// Pins are the known releases of actions (pins/actions.tsv).
	Pins *pins.Table
	// Owners are the accounts whose actions may be used.
	Owners []string
	// DeployerSelector is the label selector of the objects the CI deployer may apply.
	DeployerSelector string
	// Overlays is the folder of the Kustomize overlays, one per environment.
	Overlays string
	// AppImage is the image name the Kustomize base uses for the service.
	AppImage string
	// AppNamespace is the namespace the overlays give the deployer's objects.
	AppNamespace string
	// RequiredWorkflows are the workflows whose jobs branch protection requires on every pull
	// request to main.
	RequiredWorkflows []string
	// RequiredTargets are the make targets those workflows must run on every pull request:
	// `make lint`, and every piece of `make test`.
	RequiredTargets []string
	// MatrixTarget is the make target that prints the list of test targets for the CI matrix,
	// and MatrixTargets what it prints.
	MatrixTarget  string
	MatrixTargets []string
	// Issuer is the OIDC issuer of GitHub Actions tokens, the only one signatures may come from.
	Issuer string
	// RequirePlanPolicy makes the policy check of the plan (before apply) mandatory.
	RequirePlanPolicy bool
}

// DefaultConfig is this repository's configuration.
func DefaultConfig() (Config, error) {
	t, err := pins.Load()
	if err != nil {
		return Config{}, err
	}
	return Config{
		Pins:              t,
		Owners:            pins.Owners,
		DeployerSelector:  "platform-template.io/applied-by=ci-deployer",
		Overlays:          "k8s/overlays",
		AppImage:          "template-api",
		AppNamespace:      "template-api",
		RequiredWorkflows: []string{".github/workflows/ci.yaml", ".github/workflows/e2e.yaml"},
		RequiredTargets:   []string{"lint"},
		MatrixTarget:      "ci-matrix",
		Issuer:            "https://token.actions.githubusercontent.com",
		RequirePlanPolicy: true,
	}, nil
}

// Check runs every rule on a repository's .github/ tree.
func Check(repo *pipeline.Repo, cfg Config) []Finding {
	ctx := newContext(repo, cfg)
	var out []Finding
	for _, r := range All() {
		out = append(out, r.check(ctx)...)
	}
	return out
}

// CheckRule runs one rule.
func CheckRule(repo *pipeline.Repo, cfg Config, name string) ([]Finding, error) {
	for _, r := range All() {
		if r.Name == name {
			return r.check(newContext(repo, cfg)), nil
		}
	}
	return nil, fmt.Errorf("no rule %q", name)
}

// Names lists the rules' names, sorted.
func Names() []string {
	var out []string
	for _, r := range All() {
		out = append(out, r.Name)
	}
	sort.Strings(out)
	return out
}
