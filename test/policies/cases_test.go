package policies_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/platform-template/template-api/test/policies/internal/cases"
	"github.com/platform-template/template-api/test/policies/internal/coverage"
)

// TestCasesGenerated: the resources.yaml and kyverno-test.yaml of every policy with cases are
// what its cases.yaml generates (an edit of a generated file, or a case not regenerated, fails
// here), and every policy that refuses has its cases in a cases.yaml, so bad cases stay a base
// and a patch.
func TestCasesGenerated(t *testing.T) {
	root := policiesDir(t)
	bases, err := cases.LoadBases(filepath.Join(root, "good-workloads.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, policies, err := coverage.Check(filepath.Join(root, "base"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range policies {
		if p.Kind == "GeneratingPolicy" {
			continue // compares generated objects, refuses nothing: its files are written by hand
		}
		t.Run(p.Name, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(p.Dir, cases.CasesFile)); err != nil {
				t.Fatalf("no %s: write the policy's cases there (make kyverno-cases generates the rest): %v", cases.CasesFile, err)
			}
			g, err := cases.Generate(p.Dir, bases)
			if err != nil {
				t.Fatal(err)
			}
			for file, want := range map[string][]byte{cases.ResourcesFile: g.Resources, cases.TestFile: g.Test} {
				got, err := os.ReadFile(filepath.Join(p.Dir, file))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s is not what %s generates: run make kyverno-cases (and edit the cases, not the generated file)", file, cases.CasesFile)
				}
			}
		})
	}
}
