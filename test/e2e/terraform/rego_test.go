package terraform

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/format"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestRegoUnitTests runs the Rego unit tests of policies/terraform (*_test.rego) with OPA's tester:
// every rule shown firing on a small bad input and quiet on the good one.
func TestRegoUnitTests(t *testing.T) {
	root := repoRoot(t)
	results, err := tester.Run(context.Background(), filepath.Join(root, "policies", "terraform"))
	if err != nil {
		t.Fatalf("run the Rego tests: %v", err)
	}
	if len(results) < 20 {
		t.Fatalf("want at least 20 Rego tests, found %d", len(results))
	}
	for _, r := range results {
		if !r.Pass() {
			t.Errorf("%s.%s: %s", r.Package, r.Name, r.String())
		}
	}
	t.Logf("%d Rego tests", len(results))
}

// TestRegoFormatted keeps the policies in `opa fmt` form (OPA v1 syntax).
func TestRegoFormatted(t *testing.T) {
	root := repoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, "policies", "terraform", "*.rego"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Rego files: %v", err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		formatted, err := format.Source(f, src)
		if err != nil {
			t.Errorf("%s does not parse as Rego v1: %v", filepath.Base(f), err)
			continue
		}
		if !bytes.Equal(formatted, src) {
			t.Errorf("%s is not formatted (opa fmt); formatted:\n%s", filepath.Base(f), strings.TrimSpace(string(formatted)))
		}
	}
}
