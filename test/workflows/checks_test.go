package workflows

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Each bad fixture breaks one rule; the test asserts that the rule's check fires with its
// reason, and that no other check does (so the fixture proves that one check, not luck).
var badFixtures = []struct {
	file, check, reason string
}{
	{"pinned-actions-tag.yaml", "pinned-actions", "aquasecurity/trivy-action@master is not pinned to a full 40-hex commit SHA"},
	{"pinned-actions-no-comment.yaml", "pinned-actions", "has no version comment"},
	{"permissions-missing.yaml", "permissions", "no top-level permissions"},
	{"permissions-top-level-write.yaml", "permissions", "top-level permissions grant write to contents"},
	{"permissions-unneeded-write.yaml", "permissions", "grants contents: write, which no step of this pipeline needs"},
	{"checkout-credentials.yaml", "checkout-credentials", "without persist-credentials: false"},
	{"no-pull-request-target.yaml", "no-pull-request-target", "runs on pull_request_target"},
	{"no-expressions-in-run.yaml", "no-expressions-in-run", "data an outsider or an earlier step controls into its script: ${{ steps.push.outputs.digest }}"},
	{"timeouts.yaml", "timeouts", "no timeout-minutes"},
	{"concurrency.yaml", "concurrency", "no concurrency group"},
	{"scan-before-push-missing.yaml", "scan-before-push", "pushes an image but no Trivy image scan runs before it"},
	{"scan-before-push-order.yaml", "scan-before-push", "pushes an image but no Trivy image scan runs before it"},
	{"scan-before-push-no-fail.yaml", "scan-before-push", `does not fail the job on findings (exit-code "0")`},
	{"scan-before-push-severity.yaml", "scan-before-push", `ignores HIGH vulnerabilities (severity "CRITICAL")`},
	{"scan-before-push-unpinned-trivy.yaml", "scan-before-push", "does not pin the Trivy binary"},
	{"scan-before-push-continue.yaml", "scan-before-push", "has continue-on-error"},
	{"digest-references-sign-tag.yaml", "digest-references", "`cosign sign` names \"${IMAGE}:latest\", not a digest"},
	{"digest-references-kustomize-tag.yaml", "digest-references", "sets a tag, not a digest"},
	{"keyless-signing-key.yaml", "keyless-signing", "`cosign sign` uses a key"},
	{"verify-before-deploy-missing.yaml", "verify-before-deploy", `step "deploy" deploys before a ` + "`cosign verify`"},
	{"verify-before-deploy-any-identity.yaml", "verify-before-deploy", `trusts identity ".*", not this repository's build-scan-sign workflow`},
	{"verify-before-deploy-after.yaml", "verify-before-deploy", `step "deploy" deploys before a ` + "`cosign verify`"},
	{"deploy-environment-none.yaml", "deploy-environment", "outside a GitHub environment"},
	{"deploy-environment-no-rollout.yaml", "deploy-environment", "never waits for `kubectl rollout status`"},
	{"no-static-cloud-credentials.yaml", "no-static-cloud-credentials", "is given aws-access-key-id"},
}

func TestEachCheckRefusesItsBadFixture(t *testing.T) {
	for _, tc := range badFixtures {
		t.Run(tc.file, func(t *testing.T) {
			w, err := ParseFile(filepath.Join("testdata", "bad", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			findings := Run(w)
			if len(findings) == 0 {
				t.Fatalf("no finding; want [%s] %q", tc.check, tc.reason)
			}
			matched := false
			for _, f := range findings {
				if f.Check != tc.check {
					t.Errorf("the fixture should break only %s, but %s fired too: %s", tc.check, f.Check, f)
				}
				matched = matched || (f.Check == tc.check && strings.Contains(f.Message, tc.reason))
			}
			if !matched {
				t.Errorf("no [%s] finding says %q; got:\n%s", tc.check, tc.reason, list(findings))
			}
		})
	}
}

func TestGoodFixtureFollowsEveryRule(t *testing.T) {
	w, err := ParseFile(filepath.Join("testdata", "good", "pipeline.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if f := Run(w); len(f) > 0 {
		t.Errorf("good fixture refused:\n%s", list(f))
	}
}

// Every check must be shown firing at least once, and every bad fixture must be in the table.
func TestEveryCheckHasABadFixture(t *testing.T) {
	covered := map[string]bool{}
	listed := map[string]bool{}
	for _, tc := range badFixtures {
		covered[tc.check] = true
		listed[tc.file] = true
	}
	for _, c := range Checks() {
		if !covered[c.Name] {
			t.Errorf("check %s has no bad fixture showing it fire", c.Name)
		}
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "bad"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !listed[e.Name()] {
			t.Errorf("testdata/bad/%s is not in the fixture table", e.Name())
		}
	}
}

func TestShellCommands(t *testing.T) {
	tests := []struct {
		name, script string
		want         []string // one command per entry, words separated by |
	}{
		{"continuation and quotes", "cosign verify \\\n  --certificate-identity \"a b\" \\\n  \"$IMG@$D\" > /dev/null", []string{"cosign|verify|--certificate-identity|a b|$IMG@$D"}},
		{"chained", "cd x && kustomize edit set image a=b@c; echo ok", []string{"cd|x", "kustomize|edit|set|image|a=b@c", "echo|ok"}},
		{"pipe and comment", "aws ecr get-login-password | docker login --password-stdin r # login", []string{"aws|ecr|get-login-password", "docker|login|--password-stdin|r"}},
		{"quoted operators kept", `cosign verify --certificate-identity-regexp '^x(a|b;c)$' i`, []string{"cosign|verify|--certificate-identity-regexp|^x(a|b;c)$|i"}},
		{"fd redirect", "trivy image x 2>&1", []string{"trivy|image|x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, words := range shellCommands(tc.script) {
				got = append(got, joinWords(words))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("shellCommands(%q)\n got %q\nwant %q", tc.script, got, tc.want)
			}
		})
	}
}

func joinWords(w []string) string { return strings.Join(w, "|") }

func list(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  " + f.String() + "\n")
	}
	return b.String()
}
