package workflows

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// repoRoot is the repository holding this module (test/workflows).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// The pipeline's own workflows: each must exist and break no rule.
var pipelineWorkflows = []string{"build-scan-sign.yaml", "ci.yaml", "deploy.yaml", "e2e.yaml", "terraform.yaml"}

func TestRepositoryWorkflowsFollowEveryRule(t *testing.T) {
	dir := filepath.Join(repoRoot(t), ".github", "workflows")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	var found []string
	for _, e := range entries {
		if e.IsDir() || (filepath.Ext(e.Name()) != ".yaml" && filepath.Ext(e.Name()) != ".yml") {
			continue
		}
		found = append(found, e.Name())
		t.Run(e.Name(), func(t *testing.T) {
			w, err := ParseFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range Run(w) {
				t.Error(f)
			}
		})
	}
	for _, want := range pipelineWorkflows {
		if !slices.Contains(found, want) {
			t.Errorf("workflow %s is missing from .github/workflows", want)
		}
	}
}

// ci.yaml's matrix comes from `make ci-matrix`: every registered test target but the two with
// jobs of their own. The pipeline's own targets must be in it.
func TestCIMatrixFollowsTheMakefile(t *testing.T) {
	cmd := exec.Command("make", "-s", "--no-print-directory", "-C", repoRoot(t), "ci-matrix")
	cmd.Env = append(os.Environ(), "MAKEFLAGS=", "MAKELEVEL=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make ci-matrix: %v", err)
	}
	var targets []string
	if err := json.Unmarshal(out, &targets); err != nil {
		t.Fatalf("make ci-matrix printed %q, not a JSON list: %v", out, err)
	}
	for _, want := range []string{"lint-workflows", "secret-scan"} {
		if !slices.Contains(targets, want) {
			t.Errorf("ci matrix %v lacks %s", targets, want)
		}
	}
	for _, own := range []string{"test-go", "test-e2e"} {
		if slices.Contains(targets, own) {
			t.Errorf("ci matrix %v holds %s, which has a job of its own", targets, own)
		}
	}
	for _, wf := range []struct{ file, command string }{{"ci.yaml", "make test-go"}, {"e2e.yaml", "make test-e2e"}, {"ci.yaml", "make ci-matrix"}} {
		data, err := os.ReadFile(filepath.Join(repoRoot(t), ".github", "workflows", wf.file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), wf.command) {
			t.Errorf("%s does not run %q", wf.file, wf.command)
		}
	}
}
