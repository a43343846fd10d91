// Package rules holds the pipeline's rules: what every file under .github/ must hold to, each
// a function of the repository's .github/ tree that returns the places it is broken and why.
// The rules reason about what a workflow does, not how it is spelled: YAML as GitHub reads it
// (package pipeline), run: scripts through a shell parser (package shell), if: conditions in
// every situation a workflow can start in (package cond), and pinned actions against the
// releases they claim to be (package pins).
//
// The rules are grouped by family, one file each: supply.go (what code runs: actions, images,
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

// All returns every rule, in the order they are reported.
func All() []Rule {
	var out []Rule
	for _, family := range [][]Rule{readingRules(), supplyRules(), tokenRules(), scanRules(), deployRules(), terraformRules(), signingRules(), checksRules(), hygieneRules()} {
		out = append(out, family...)
	}
	return out
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
