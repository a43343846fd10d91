// Package workflows holds the tests of the pipeline's rules (package rules) against the
// repository's real .github/ tree: the real workflows pass every rule, each rule refuses its bad
// fixture, a generated suite of insecure changes to the real workflows is refused rule by rule,
// and secure changes pass. The secret scan (gitleaks) and Dependabot's coverage are tested here
// too.
package workflows

import (
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/platform-template/template-api/test/internal/repo"
	"github.com/platform-template/template-api/test/workflows/mutate"
	"github.com/platform-template/template-api/test/workflows/pipeline"
	"github.com/platform-template/template-api/test/workflows/rules"
)

// realFiles is a copy of the repository's .github/ tree and the root files the rules read.
func realFiles(t *testing.T) mutate.Files {
	t.Helper()
	loaded, err := pipeline.Load(repo.MustRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	return mutate.Files(loaded.Files).Clone()
}

var (
	makeOnce    sync.Once
	makeTargets struct {
		matrix, required []string
		err              error
	}
)

// makeList runs a make target of the repository that prints a JSON list.
func makeList(root, target string) ([]string, error) {
	cmd := exec.Command("make", "-s", "--no-print-directory", "-C", root, target)
	cmd.Env = append(os.Environ(), "MAKEFLAGS=", "MAKELEVEL=")
	out, err := cmd.Output()
	if err != nil {
		return nil, err
	}
	var list []string
	if err := json.Unmarshal(out, &list); err != nil {
		return nil, err
	}
	return list, nil
}

// config is the rules' configuration for this repository, with the make targets CI must run
// taken from the Makefile.
func config(t *testing.T) rules.Config {
	t.Helper()
	cfg, err := rules.DefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	makeOnce.Do(func() {
		root := repo.MustRoot(t)
		makeTargets.matrix, makeTargets.err = makeList(root, "ci-matrix")
		if makeTargets.err == nil {
			makeTargets.required, makeTargets.err = makeList(root, "ci-required")
		}
	})
	if makeTargets.err != nil {
		t.Fatalf("make ci-matrix / ci-required: %v", makeTargets.err)
	}
	cfg.MatrixTargets = makeTargets.matrix
	cfg.RequiredTargets = makeTargets.required
	return cfg
}

// readCache keeps what file texts read as across the many copies of the tree the tests check.
var readCache = pipeline.NewCache()

// check runs every rule on a set of files, with the repository on disk for the rest.
func check(t *testing.T, files mutate.Files, cfg rules.Config) []rules.Finding {
	t.Helper()
	return rules.Check(pipeline.NewCached(readCache, repo.MustRoot(t), files), cfg)
}

// The pipeline's own workflows: each must exist and break no rule.
var pipelineWorkflows = []string{"build-scan-sign.yaml", "ci.yaml", "deploy.yaml", "e2e.yaml", "terraform.yaml"}

func TestRepositoryWorkflowsFollowEveryRule(t *testing.T) {
	files := realFiles(t)
	byFile := map[string][]rules.Finding{}
	for _, f := range check(t, files, config(t)) {
		byFile[f.Path] = append(byFile[f.Path], f)
	}
	var names []string
	for p := range files {
		if strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml") {
			names = append(names, p)
		}
	}
	slices.Sort(names)
	for _, p := range names {
		t.Run(strings.TrimPrefix(strings.TrimPrefix(p, ".github/workflows/"), ".github/"), func(t *testing.T) {
			for _, f := range byFile[p] {
				t.Error(f)
			}
			delete(byFile, p)
		})
	}
	for p, fs := range byFile { // findings about the repository as a whole
		t.Run(path.Base(p), func(t *testing.T) {
			for _, f := range fs {
				t.Error(f)
			}
		})
	}
	for _, want := range pipelineWorkflows {
		if _, ok := files[".github/workflows/"+want]; !ok {
			t.Errorf("workflow %s is missing from .github/workflows", want)
		}
	}
}

// ci.yaml's matrix comes from `make ci-matrix`: every registered test target but the two with
// jobs of their own; `make ci-required` lists what CI must run in all.
func TestCIMatrixFollowsTheMakefile(t *testing.T) {
	cfg := config(t)
	for _, want := range []string{"test-workflows", "secret-scan"} {
		if !slices.Contains(cfg.MatrixTargets, want) {
			t.Errorf("ci matrix %v lacks %s", cfg.MatrixTargets, want)
		}
	}
	for _, own := range []string{"test-go", "test-e2e"} {
		if slices.Contains(cfg.MatrixTargets, own) {
			t.Errorf("ci matrix %v holds %s, which has a job of its own", cfg.MatrixTargets, own)
		}
		if !slices.Contains(cfg.RequiredTargets, own) {
			t.Errorf("make ci-required %v lacks %s", cfg.RequiredTargets, own)
		}
	}
	if !slices.Contains(cfg.RequiredTargets, "lint") {
		t.Errorf("make ci-required %v lacks lint", cfg.RequiredTargets)
	}
	for _, m := range cfg.MatrixTargets {
		if !slices.Contains(cfg.RequiredTargets, m) {
			t.Errorf("matrix target %s is not in make ci-required %v", m, cfg.RequiredTargets)
		}
	}
}

// The linter (tools/actionlint) and the rules read workflows with the same actionlint release,
// so that both see the same YAML.
func TestActionlintVersionsAgree(t *testing.T) {
	version := func(p string) string {
		data, err := os.ReadFile(filepath.Join(repo.MustRoot(t), p))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == "github.com/rhysd/actionlint" {
				return f[1]
			}
		}
		t.Fatalf("%s does not require github.com/rhysd/actionlint", p)
		return ""
	}
	if a, b := version("tools/actionlint/go.mod"), version("test/go.mod"); a != b {
		t.Errorf("tools/actionlint pins actionlint %s, the test module %s: move them together", a, b)
	}
}

// docs/pipeline.md lists what every rule guarantees: a rule added without its line there fails.
func TestPipelinePageNamesEveryRule(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repo.MustRoot(t), "docs", "pipeline.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules.All() {
		if !strings.Contains(string(data), "| `"+r.Name+"` |") {
			t.Errorf("docs/pipeline.md has no row for rule %s", r.Name)
		}
	}
}
