package cond

import "testing"

func scenario(t *testing.T, name string) Scenario {
	t.Helper()
	for _, s := range Scenarios() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no scenario %q", name)
	return Scenario{}
}

func TestEval(t *testing.T) {
	failed := Status{Success: False, Failure: True, Cancelled: False}
	tests := []struct {
		cond     string
		scenario string
		status   Status
		want     Truth
	}{
		{"", "push to main", Normal, True},
		{"", "push to main", failed, False},
		{"always()", "push to main", failed, True},
		{"${{ always() }}", "push to main", failed, True},
		{"!cancelled()", "push to main", failed, True},
		{"success() || failure()", "push to main", failed, True},
		{"failure() && steps.scan.outcome == 'failure'", "push to main", failed, Unknown},
		{"github.ref == 'refs/heads/main'", "push to main", Normal, True},
		{"github.ref == 'refs/heads/main'", "push to main", failed, False},
		{"github.ref == 'refs/heads/main'", "pull request from a branch", Normal, False},
		{"github.REF == 'REFS/HEADS/MAIN'", "push to main", Normal, True},
		{"${{ github.event_name == 'push' && github.ref == 'refs/heads/main' }}", "manual run on another branch", Normal, False},
		{"github.event_name == 'push' || github.event_name == 'workflow_dispatch'", "manual run on another branch", Normal, True},
		{"github.event_name != 'workflow_dispatch'", "manual run on main", Normal, False},
		{"startsWith(github.ref, 'refs/heads/')", "push to another branch", Normal, True},
		{"github.event.pull_request.head.repo.full_name == github.repository", "pull request from a fork", Normal, False},
		{"github.event.pull_request.head.repo.full_name == github.repository", "pull request from a branch", Normal, True},
		{"github.event.workflow_run.conclusion == 'success' && github.event.workflow_run.event == 'push'", "after a pull request's build from a branch named main", Normal, False},
		{"!contains(github.event.pull_request.labels.*.name, 'skip-lint')", "pull request from a branch", Normal, Unknown},
		{"github.actor != 'dependabot[bot]'", "pull request from a branch", Normal, Unknown},
		{"vars.DEPLOY == 'true'", "push to main", Normal, Unknown},
		{"false", "push to main", Normal, False},
		{"${{ false }} || ${{ false }}", "push to main", Normal, True}, // a string, not an expression
		{"0", "push to main", Normal, False},
		{"'0'", "push to main", Normal, True},
		{"format('{0}', github.ref) == 'refs/heads/main'", "push to main", Normal, True},
	}
	for _, tc := range tests {
		c, err := Parse(tc.cond)
		if err != nil {
			t.Fatalf("%q: %v", tc.cond, err)
		}
		s := scenario(t, tc.scenario)
		if got := c.Eval(Env{Values: s.Values(), Status: tc.status}); got != tc.want {
			t.Errorf("%q in %q (%+v) = %v, want %v", tc.cond, tc.scenario, tc.status, got, tc.want)
		}
	}
}

func TestEvalReadsStepResults(t *testing.T) {
	c, err := Parse("${{ failure() && steps.scan.outcome == 'failure' }}")
	if err != nil {
		t.Fatal(err)
	}
	v := scenario(t, "push to main").Values()
	v["steps.scan.outcome"] = "failure"
	if got := c.Eval(Env{Values: v, Status: Status{Success: False, Failure: True}}); got != True {
		t.Errorf("got %v, want true", got)
	}
	v["steps.scan.outcome"] = "success"
	if got := c.Eval(Env{Values: v, Status: Normal}); got != False {
		t.Errorf("got %v, want false", got)
	}
}

func TestParseRefusesBrokenExpressions(t *testing.T) {
	if _, err := Parse("github.ref == "); err == nil {
		t.Error("a broken expression parsed")
	}
}
