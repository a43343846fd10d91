package coverage

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/platform-template/template-api/test/internal/repo"
)

// TestEveryPolicyHasFailingCases is the gate: every policy in policies/kyverno/base is listed
// in its kustomization and has failing cases (Pod, Deployment and CronJob where it matches
// them) and, for validating policies, a passing case.
func TestEveryPolicyHasFailingCases(t *testing.T) {
	base := filepath.Join(repo.MustRoot(t), "policies", "kyverno", "base")
	problems, policies, err := Check(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	if len(policies) < 11 {
		t.Errorf("found %d policies in %s, want at least the 11 guardrails", len(policies), base)
	}
	for _, p := range policies {
		t.Logf("covered: %s %s", p.Kind, p.Name)
	}
}

// TestCheckerFires shows the checker refusing a folder with untested policies, so that the
// gate above cannot pass vacuously.
func TestCheckerFires(t *testing.T) {
	problems, _, err := Check(filepath.Join("testdata", "bad"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"only-passes: ValidatingPolicy only-passes has 0 failing case(s), want at least 3",
		"no-test: no-test: no kyverno-test.yaml beside the policy",
		"unlisted/policy.yaml: not listed in bad/kustomization.yaml, so never installed",
		"pods-only: ValidatingPolicy pods-only matches cronjobs but has no failing CronJob case",
		"hidden/extra.yaml: holds a Kyverno policy outside a <policy>/policy.yaml file",
		"unbound-vap/binding.yaml: ValidatingAdmissionPolicy unbound-vap has no binding beside it",
	} {
		found := false
		for _, p := range problems {
			if strings.Contains(p, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("checker did not report %q; it reported:\n%s", want, strings.Join(problems, "\n"))
		}
	}
}
