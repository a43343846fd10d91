package terraform

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/platform-template/template-api/test/internal/repo"
)

// TestRegoUnitTests runs the Rego unit tests of policies/terraform (*_test.rego) with OPA's tester:
// every rule shown firing on a small bad input and quiet on the good one.
func TestRegoUnitTests(t *testing.T) {
	root := repo.MustRoot(t)
	results, err := tester.Run(context.Background(), filepath.Join(root, "policies", "terraform"))
	if err != nil {
		t.Fatalf("run the Rego tests: %v", err)
	}
	if len(results) < 100 {
		t.Fatalf("want at least 100 Rego tests, found %d", len(results))
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
	root := repo.MustRoot(t)
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

var ruleBody = regexp.MustCompile(`(?m)^violations contains violation\("([a-z_.]+)".*\{\n`)

// TestEveryRuleBodyIsProven mutates each rule of policies/terraform in turn (one body of
// `violations contains violation(...)` made never to fire) and runs the unit tests on the
// mutant: a rule whose body can go dead with every test still green is a rule no test proves.
func TestEveryRuleBodyIsProven(t *testing.T) {
	root := repo.MustRoot(t)
	dir := filepath.Join(root, "policies", "terraform")
	files, err := filepath.Glob(filepath.Join(dir, "*.rego"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Rego files: %v", err)
	}
	sources := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources[f] = string(b)
	}
	run := func(t *testing.T, srcs map[string]string) (failed int) {
		t.Helper()
		modules := map[string]*ast.Module{}
		for f, src := range srcs {
			m, err := ast.ParseModuleWithOpts(f, src, ast.ParserOptions{RegoVersion: ast.RegoV1})
			if err != nil {
				t.Fatalf("parse %s: %v", f, err)
			}
			modules[f] = m
		}
		ch, err := tester.NewRunner().SetModules(modules).RunTests(context.Background(), nil)
		if err != nil {
			t.Fatalf("run the Rego tests: %v", err)
		}
		for r := range ch {
			if !r.Pass() {
				failed++
			}
		}
		return failed
	}
	if n := run(t, sources); n != 0 {
		t.Fatalf("%d Rego tests fail on the real policies", n)
	}
	bodies, killed := 0, 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.rego") {
			continue
		}
		src := sources[f]
		for _, loc := range ruleBody.FindAllStringSubmatchIndex(src, -1) {
			bodies++
			rule := src[loc[2]:loc[3]]
			mutant := map[string]string{}
			for k, v := range sources {
				mutant[k] = v
			}
			mutant[f] = src[:loc[1]] + "\tfalse\n" + src[loc[1]:]
			if run(t, mutant) > 0 {
				killed++
				continue
			}
			line := strings.Count(src[:loc[0]], "\n") + 1
			t.Errorf("%s:%d: the body of %s can never fire and every unit test still passes: add the bad case it refuses", filepath.Base(f), line, rule)
		}
	}
	if bodies < 80 {
		t.Errorf("found %d rule bodies; the pattern no longer matches how rules are written", bodies)
	}
	t.Logf("%d of %d rule bodies killed by the unit tests", killed, bodies)
}
