package release

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/platform-template/template-api/test/e2e/internal/provenance"
	"github.com/platform-template/template-api/test/internal/repo"
)

// celString reads a CEL string literal as the policies write them: 'x' or r'x'.
func celString(t *testing.T, expr string) string {
	t.Helper()
	expr = strings.TrimSpace(expr)
	raw := strings.HasPrefix(expr, "r'")
	expr = strings.TrimPrefix(expr, "r")
	if len(expr) < 2 || expr[0] != '\'' || expr[len(expr)-1] != '\'' {
		t.Fatalf("%q is not a CEL string literal", expr)
	}
	s := expr[1 : len(expr)-1]
	if !raw && strings.Contains(s, `\`) {
		t.Fatalf("%q: write regular expressions as raw strings (r'...')", expr)
	}
	return s
}

// policyVariables reads spec.variables of the image policy, and the trusted builder the
// cosign-key component swaps in.
func policyVariables(t *testing.T) (vars map[string]string, localBuilder string) {
	t.Helper()
	root := repo.MustRoot(t)
	var pol struct {
		Spec struct {
			Variables []struct{ Name, Expression string } `json:"variables"`
		} `json:"spec"`
	}
	b, err := os.ReadFile(filepath.Join(root, "policies", "kyverno", "base", "verify-image-signatures", "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &pol); err != nil {
		t.Fatal(err)
	}
	vars = map[string]string{}
	for _, v := range pol.Spec.Variables {
		if v.Name == "trustedBuilder" || v.Name == "sourceRepository" {
			vars[v.Name] = celString(t, v.Expression)
		}
	}
	if len(vars) != 2 {
		t.Fatalf("the policy's variables %v: want trustedBuilder and sourceRepository", vars)
	}
	var comp struct {
		Patches []struct{ Patch string } `json:"patches"`
	}
	b, err = os.ReadFile(filepath.Join(root, "policies", "kyverno", "components", "cosign-key", "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &comp); err != nil {
		t.Fatal(err)
	}
	for _, p := range comp.Patches {
		var ops []struct {
			Op, Path string
			Value    any
		}
		if err := yaml.Unmarshal([]byte(p.Patch), &ops); err != nil {
			t.Fatal(err)
		}
		for _, op := range ops {
			if op.Op == "replace" && op.Path == "/spec/variables/0/expression" {
				localBuilder = celString(t, op.Value.(string))
			}
		}
	}
	if localBuilder == "" {
		t.Fatal("components/cosign-key does not replace the trusted builder")
	}
	return vars, localBuilder
}

// TestPolicyTrustsWhatReleaseClaims ties the three places that name the supply chain's
// identities together: the policy's source repository is the one releases claim; the local
// trusted builder (components/cosign-key) is make release's and nothing like the foreign one;
// the production trusted builder is the workflow's builder id, as the provenance writer makes it
// from GitHub's variables, on main and on release tags only.
func TestPolicyTrustsWhatReleaseClaims(t *testing.T) {
	vars, local := policyVariables(t)
	if vars["sourceRepository"] != SourceRepository {
		t.Errorf("policy sourceRepository %q, releases claim %q", vars["sourceRepository"], SourceRepository)
	}
	localRE := regexp.MustCompile(local)
	if !localRE.MatchString(LocalBuilderID) || localRE.MatchString(ForeignBuilderID) || localRE.MatchString(LocalBuilderID+"x") {
		t.Errorf("local trusted builder %q: must match exactly %q", local, LocalBuilderID)
	}
	prodRE := regexp.MustCompile(vars["trustedBuilder"])
	if prodRE.MatchString(LocalBuilderID) {
		t.Errorf("production trusts the local builder %q", LocalBuilderID)
	}
	for ref, want := range map[string]bool{
		"refs/heads/main": true, "refs/tags/v1.2.3": true,
		"refs/heads/dev": false, "refs/tags/v1.2.3-rc1": false, "refs/heads/main-evil": false, "refs/pull/1/merge": false,
	} {
		env := map[string]string{
			"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "platform-template/template-api",
			"GITHUB_REF": ref, "GITHUB_SHA": strings.Repeat("a", 40),
			"GITHUB_WORKFLOW_REF": "platform-template/template-api/.github/workflows/build-scan-sign.yaml@" + ref,
			"GITHUB_RUN_ID":       "1", "GITHUB_RUN_ATTEMPT": "1", "GITHUB_EVENT_NAME": "push",
			"GITHUB_REPOSITORY_ID": "1", "GITHUB_REPOSITORY_OWNER_ID": "1", "RUNNER_ENVIRONMENT": "github-hosted",
		}
		in, err := provenance.FromGitHubActions(func(k string) string { return env[k] },
			[]provenance.Image{{Ref: "x@sha256:" + strings.Repeat("b", 64), Digest: "sha256:" + strings.Repeat("b", 64)}}, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if got := prodRE.MatchString(in.BuilderID); got != want {
			t.Errorf("production trusts builder %s: %v, want %v", in.BuilderID, got, want)
		}
	}
	fork := "https://github.com/someone/template-api/.github/workflows/build-scan-sign.yaml@refs/heads/main"
	if prodRE.MatchString(fork) {
		t.Errorf("production trusts a fork's workflow %s", fork)
	}
}

// TestFixtureIsAReleaseProvenance: the provenance test/policies attests (and mutates for its bad
// cases) has the shape the writer makes, key for key, so the policy tests test what releases
// attest.
func TestFixtureIsAReleaseProvenance(t *testing.T) {
	var fixture map[string]any
	b, err := os.ReadFile(filepath.Join(repo.MustRoot(t), "test", "policies", "testdata", "provenance.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fixture); err != nil {
		t.Fatal(err)
	}
	p, err := provenance.New(provenance.Inputs{
		BuildType: provenance.LocalBuildType, BuilderID: LocalBuilderID, WorkflowPath: BuildDefinition,
		Source:    provenance.Source{Repository: SourceRepository, Ref: "refs/heads/main", Commit: strings.Repeat("c", 40)},
		External:  map[string]any{"image": map[string]any{"name": ImageName, "tag": "t", "build": "assembled"}},
		Internal:  map[string]any{"vulnerabilityScan": ScanResult{Reason: "none"}.Record()},
		Toolchain: "go1.26", Tools: map[string]string{"cosign": "v"}, Started: time.Now(), Finished: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	var made map[string]any
	b, _ = json.Marshal(p)
	if err := json.Unmarshal(b, &made); err != nil {
		t.Fatal(err)
	}
	if got, want := keys(fixture, ""), keys(made, ""); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("fixture keys\n  %v\nwriter keys\n  %v\n(regenerate test/policies/testdata/provenance.json with make release)", got, want)
	}
	if fixture["runDetails"].(map[string]any)["builder"].(map[string]any)["id"] != LocalBuilderID {
		t.Error("the fixture's builder is not make release's")
	}
}

// keys lists the object keys of v, as paths, with list elements merged under [].
func keys(v any, prefix string) []string {
	set := map[string]bool{}
	var walk func(any, string)
	walk = func(v any, p string) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				set[p+"."+k] = true
				if k == "version" || k == "digest" {
					continue // maps of names chosen by the writer's caller
				}
				walk(e, p+"."+k)
			}
		case []any:
			for _, e := range x {
				walk(e, p+"[]")
			}
		}
	}
	walk(v, prefix)
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
