package workflows

import (
	"os"
	"path/filepath"
	"slices"
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
