package rules

import (
	"testing"

	"github.com/platform-template/template-api/test/workflows/cond"
	"github.com/platform-template/template-api/test/workflows/pipeline"
	"github.com/platform-template/template-api/test/workflows/shell"
)

func TestRulesAreNamedOnceAndSayWhatTheyGuarantee(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range All() {
		if seen[r.Name] {
			t.Errorf("rule %s is listed twice", r.Name)
		}
		seen[r.Name] = true
		if len(r.Guarantee) < 40 {
			t.Errorf("rule %s: guarantee %q says too little", r.Name, r.Guarantee)
		}
	}
}

// GitHub's branch and tag filters, and which scenarios a trigger admits.
func TestTriggerFilters(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"main", "main", true},
		{"main", "main2", false},
		{"release/*", "release/v1", true},
		{"release/*", "release/v1/x", false},
		{"release/**", "release/v1/x", true},
		{"v*.*.*", "v1.2.3", true},
		{"v*.*.*", "v1.2", false},
	}
	for _, tc := range tests {
		if got := globMatch(tc.pattern, tc.name); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v", tc.pattern, tc.name, got)
		}
	}
	if !filtered("feature", []string{"**", "!main"}, nil) || filtered("main", []string{"**", "!main"}, nil) {
		t.Error("a negated pattern does not exclude")
	}
	push := &pipeline.Trigger{Event: "push", Branches: []string{"main"}, HasBranches: true}
	pr := &pipeline.Trigger{Event: "pull_request", Types: []string{"labeled"}}
	for _, sc := range cond.Scenarios() {
		want := sc.Event == "push" && sc.Ref == "refs/heads/main"
		if got := admits(push, sc); got != want {
			t.Errorf("push to main only admits %q: %v", sc.Name, got)
		}
		if admits(pr, sc) {
			t.Errorf("pull_request types [labeled] admits %q", sc.Name)
		}
	}
}

func TestLookalikeOwners(t *testing.T) {
	trusted := []string{"actions", "docker", "aquasecurity"}
	for owner, want := range map[string]string{"action": "actions", "dockr": "docker", "aquasecurlty": "aquasecurity", "docker-io": "docker", "actions-x": "actions", "hashicorp": ""} {
		if got := lookalike(owner, trusted); got != want {
			t.Errorf("lookalike(%q) = %q, want %q", owner, got, want)
		}
	}
}

func TestRoleKeys(t *testing.T) {
	j := &pipeline.Job{Matrix: map[string][]string{"plan-role": {"A", "B"}}}
	for v, want := range map[string]string{
		"${{ vars.X }}":                 "vars.X",
		"${{ vars['X'] }}":              "vars.X",
		"${{ vars[matrix.plan-role] }}": "vars.A vars.B",
		"arn:aws:iam::1:role/r":         "arn:aws:iam::1:role/r",
	} {
		got := roleKeys(j, v)
		s := ""
		for i, k := range got {
			if i > 0 {
				s += " "
			}
			s += k
		}
		if s != want {
			t.Errorf("roleKeys(%q) = %q, want %q", v, s, want)
		}
	}
}

// Where a privileged job may unpack artifacts: the runner's temporary directory, spelt as the
// expression or the variable, and nothing that climbs out of it or only starts like it.
func TestUnderRunnerTemp(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"${{ runner.temp }}/digest", true},
		{"${{runner.temp}}", true},
		{"$RUNNER_TEMP/digest", true},
		{"${RUNNER_TEMP}/a/b", true},
		{"", false},
		{".", false},
		{"k8s/overlays/production", false},
		{"${{ runner.temp }}/../work", false},
		{"$RUNNER_TEMPLATES/x", false},
		{"${{ github.workspace }}/x", false},
	}
	for _, tc := range tests {
		if got := underRunnerTemp(tc.path); got != tc.want {
			t.Errorf("underRunnerTemp(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}

// How gh run download is read: the run, the repository (-R, --repo, -Rowner/repo, --repo=) and
// the directory, whichever way the flags are spelt.
func TestGhRunDownload(t *testing.T) {
	tests := []struct {
		script, run, repo, dir string
	}{
		{`gh run download "$GITHUB_RUN_ID" -n digest -D "$RUNNER_TEMP/d"`, "$GITHUB_RUN_ID", "", "$RUNNER_TEMP/d"},
		{`gh run download 123 --repo someone/fork --dir=out`, "123", "someone/fork", "out"},
		{`gh run download -Rsomeone/fork -Dout 123`, "123", "someone/fork", "out"},
		{`gh run download --name digest --pattern 'x*'`, "", "", ""},
	}
	for _, tc := range tests {
		sc, err := shell.Parse(tc.script, shell.Options{})
		if err != nil || len(sc.Commands) != 1 {
			t.Fatalf("%s: %v", tc.script, err)
		}
		run, repo, dir, ok := ghRunDownload(sc.Commands[0])
		if !ok || run != tc.run || repo != tc.repo || dir != tc.dir {
			t.Errorf("%s: run %q repo %q dir %q (%v), want %q %q %q", tc.script, run, repo, dir, ok, tc.run, tc.repo, tc.dir)
		}
	}
}
