package provenance

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// FromGitHubActions fills the inputs of a workflow run from the variables GitHub Actions sets
// in every job (https://docs.github.com/en/actions/reference/variables-reference), as GitHub's
// workflow/v1 build type defines them:
//
//	builder id   GITHUB_SERVER_URL/GITHUB_WORKFLOW_REF (the workflow file at its ref)
//	repository   GITHUB_SERVER_URL/GITHUB_REPOSITORY, ref GITHUB_REF, commit GITHUB_SHA
//	path         GITHUB_WORKFLOW_REF without the repository and the ref
//	invocation   GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID/attempts/GITHUB_RUN_ATTEMPT
//
// A missing variable is an error naming it: outside a workflow run, nothing is made up.
func FromGitHubActions(getenv func(string) string, bases []Image, started, finished time.Time) (Inputs, error) {
	names := []string{"GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_REF", "GITHUB_SHA", "GITHUB_WORKFLOW_REF",
		"GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT", "GITHUB_EVENT_NAME", "GITHUB_REPOSITORY_ID", "GITHUB_REPOSITORY_OWNER_ID", "RUNNER_ENVIRONMENT"}
	env := map[string]string{}
	var missing []string
	for _, n := range names {
		if env[n] = getenv(n); env[n] == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return Inputs{}, fmt.Errorf("not in a GitHub Actions run: %s unset", strings.Join(missing, ", "))
	}
	server, repo, ref := env["GITHUB_SERVER_URL"], env["GITHUB_REPOSITORY"], env["GITHUB_REF"]
	// GITHUB_WORKFLOW_REF is <owner>/<repo>/<path>@<ref>; path and ref may hold "@", so both ends
	// are cut by what they must be rather than at an "@".
	workflowRef := env["GITHUB_WORKFLOW_REF"]
	path, ok := strings.CutPrefix(workflowRef, repo+"/")
	if ok {
		path, ok = strings.CutSuffix(path, "@"+ref)
	}
	if !ok || path == "" {
		return Inputs{}, errors.New("GITHUB_WORKFLOW_REF " + workflowRef + " is not <GITHUB_REPOSITORY>/<path>@<GITHUB_REF>")
	}
	return Inputs{
		BuildType:    GitHubWorkflowBuildType,
		BuilderID:    server + "/" + workflowRef,
		Source:       Source{Repository: server + "/" + repo, Ref: ref, Commit: env["GITHUB_SHA"]},
		WorkflowPath: path,
		Internal: map[string]any{"github": map[string]any{
			"event_name":          env["GITHUB_EVENT_NAME"],
			"repository_id":       env["GITHUB_REPOSITORY_ID"],
			"repository_owner_id": env["GITHUB_REPOSITORY_OWNER_ID"],
		}},
		External:     map[string]any{"runner_environment": env["RUNNER_ENVIRONMENT"]},
		BaseImages:   bases,
		InvocationID: server + "/" + repo + "/actions/runs/" + env["GITHUB_RUN_ID"] + "/attempts/" + env["GITHUB_RUN_ATTEMPT"],
		Started:      started,
		Finished:     finished,
	}, nil
}
