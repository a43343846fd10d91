package cond

// Scenario is one way a workflow can be started: an event on a ref. The rules evaluate every
// job and step condition in each scenario the workflow's triggers admit.
type Scenario struct {
	Name  string
	Event string // github.event_name
	Ref   string // github.ref
	// BaseRef is the branch a pull request targets (pull_request events).
	BaseRef string
	// Fork is true for a pull request from another repository.
	Fork bool
	// RunEvent, RunConclusion and RunBranch describe the run that triggered a workflow_run.
	RunEvent, RunConclusion, RunBranch string
	// Trusted is true when the code and the data of the run come from this repository's
	// default branch (main): a push to main, a tag, a manual run or a schedule on main, a
	// workflow_run after a successful push to main.
	Trusted bool
}

// thisRepo stands for github.repository; a fork's pull request comes from another name.
const (
	thisRepo = "owner/repo"
	forkRepo = "someone/repo"
)

// Scenarios are the situations the rules consider.
func Scenarios() []Scenario {
	return []Scenario{
		{Name: "push to main", Event: "push", Ref: "refs/heads/main", Trusted: true},
		{Name: "push of a tag v1.2.3", Event: "push", Ref: "refs/tags/v1.2.3", Trusted: true},
		{Name: "push of a tag that is not a release", Event: "push", Ref: "refs/tags/wip"},
		{Name: "push to another branch", Event: "push", Ref: "refs/heads/feature"},
		{Name: "pull request from a branch", Event: "pull_request", Ref: "refs/pull/7/merge", BaseRef: "main"},
		{Name: "pull request from a fork", Event: "pull_request", Ref: "refs/pull/8/merge", BaseRef: "main", Fork: true},
		{Name: "pull_request_target from a fork", Event: "pull_request_target", Ref: "refs/heads/main", BaseRef: "main", Fork: true},
		{Name: "manual run on main", Event: "workflow_dispatch", Ref: "refs/heads/main", Trusted: true},
		{Name: "manual run on another branch", Event: "workflow_dispatch", Ref: "refs/heads/feature"},
		{Name: "schedule", Event: "schedule", Ref: "refs/heads/main", Trusted: true},
		{Name: "after a successful build of main", Event: "workflow_run", Ref: "refs/heads/main", RunEvent: "push", RunConclusion: "success", RunBranch: "main", Trusted: true},
		{Name: "after a failed build of main", Event: "workflow_run", Ref: "refs/heads/main", RunEvent: "push", RunConclusion: "failure", RunBranch: "main"},
		{Name: "after a pull request's build from a branch named main", Event: "workflow_run", Ref: "refs/heads/main", RunEvent: "pull_request", RunConclusion: "success", RunBranch: "main"},
		{Name: "after a build of another branch", Event: "workflow_run", Ref: "refs/heads/main", RunEvent: "push", RunConclusion: "success", RunBranch: "feature"},
	}
}

// PullRequest reports whether the scenario runs code or data a pull request controls.
func (s Scenario) PullRequest() bool {
	switch s.Event {
	case "pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment", "issue_comment", "merge_group":
		return true
	}
	return s.RunEvent == "pull_request"
}

// OnMain reports whether the run is for the main branch.
func (s Scenario) OnMain() bool {
	return s.Ref == "refs/heads/main" && !s.PullRequest() && s.RunBranch != "feature"
}

// Values are the context values the scenario fixes.
func (s Scenario) Values() map[string]string {
	v := map[string]string{
		"github.event_name": s.Event,
		"github.ref":        s.Ref,
		"github.repository": thisRepo,
	}
	switch {
	case len(s.Ref) > len("refs/heads/") && s.Ref[:len("refs/heads/")] == "refs/heads/":
		v["github.ref_name"], v["github.ref_type"] = s.Ref[len("refs/heads/"):], "branch"
	case len(s.Ref) > len("refs/tags/") && s.Ref[:len("refs/tags/")] == "refs/tags/":
		v["github.ref_name"], v["github.ref_type"] = s.Ref[len("refs/tags/"):], "tag"
	}
	if s.Event == "pull_request" || s.Event == "pull_request_target" {
		v["github.base_ref"] = s.BaseRef
		v["github.head_ref"] = "feature"
		v["github.event.pull_request.base.ref"] = s.BaseRef
		full, fork := thisRepo, "false"
		if s.Fork {
			full, fork = forkRepo, "true"
		}
		v["github.event.pull_request.head.repo.full_name"] = full
		v["github.event.pull_request.head.repo.fork"] = fork
	} else {
		// The event has no pull request: its fields are null, which compares like "".
		v["github.base_ref"], v["github.head_ref"] = "", ""
		v["github.event.pull_request.base.ref"] = ""
		v["github.event.pull_request.head.repo.full_name"] = ""
		v["github.event.pull_request.head.repo.fork"] = ""
	}
	for _, k := range []string{"event", "conclusion", "head_branch", "head_repository.full_name"} {
		v["github.event.workflow_run."+k] = ""
	}
	if s.Event == "workflow_run" {
		v["github.event.workflow_run.event"] = s.RunEvent
		v["github.event.workflow_run.conclusion"] = s.RunConclusion
		v["github.event.workflow_run.head_branch"] = s.RunBranch
		v["github.event.workflow_run.head_repository.full_name"] = thisRepo
		if s.RunEvent == "pull_request" {
			v["github.event.workflow_run.head_repository.full_name"] = forkRepo
		}
	}
	return v
}
