package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func ghEnv(k string) string {
	return map[string]string{
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "platform-template/template-api",
		"GITHUB_REF": "refs/tags/v1.2.3", "GITHUB_SHA": strings.Repeat("d", 40),
		"GITHUB_WORKFLOW_REF": "platform-template/template-api/.github/workflows/build-scan-sign.yaml@refs/tags/v1.2.3",
		"GITHUB_RUN_ID":       "7", "GITHUB_RUN_ATTEMPT": "2", "GITHUB_EVENT_NAME": "push",
		"GITHUB_REPOSITORY_ID": "10", "GITHUB_REPOSITORY_OWNER_ID": "20", "RUNNER_ENVIRONMENT": "github-hosted",
	}[k]
}

// The workflow's provenance step: from GitHub's variables and the repository's Dockerfile.
func TestProvenanceOfAWorkflowRun(t *testing.T) {
	var out, errOut bytes.Buffer
	df := filepath.Join("..", "..", "..", "..", "Dockerfile")
	if err := run(context.Background(), []string{"provenance", "-github", "-dockerfile", df, "-started", "2026-01-02T08:00:00Z"}, ghEnv, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	var p struct {
		BuildDefinition struct {
			BuildType            string `json:"buildType"`
			ResolvedDependencies []struct {
				URI    string            `json:"uri"`
				Digest map[string]string `json:"digest"`
			} `json:"resolvedDependencies"`
		} `json:"buildDefinition"`
		RunDetails struct {
			Builder struct{ ID string } `json:"builder"`
		} `json:"runDetails"`
	}
	if err := json.Unmarshal(out.Bytes(), &p); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if p.RunDetails.Builder.ID != "https://github.com/platform-template/template-api/.github/workflows/build-scan-sign.yaml@refs/tags/v1.2.3" {
		t.Errorf("builder %q", p.RunDetails.Builder.ID)
	}
	deps := p.BuildDefinition.ResolvedDependencies
	if len(deps) != 3 || deps[0].Digest["gitCommit"] != strings.Repeat("d", 40) ||
		!strings.HasPrefix(deps[1].URI, "pkg:docker/golang@") || !strings.HasPrefix(deps[2].URI, "pkg:docker/gcr.io/distroless/") {
		t.Errorf("resolved dependencies %+v, want the commit and the Dockerfile's two bases", deps)
	}
}

func TestRunRefusesBadArguments(t *testing.T) {
	df := filepath.Join("..", "..", "..", "..", "Dockerfile")
	cases := []struct {
		args []string
		env  func(string) string
		want string
	}{
		{nil, ghEnv, "usage"},
		{[]string{"run"}, ghEnv, "unknown command"},
		{[]string{"provenance"}, ghEnv, "give -github"},
		{[]string{"provenance", "-github", "-dockerfile", df}, func(string) string { return "" }, "not in a GitHub Actions run"},
		{[]string{"provenance", "-github", "-started", "yesterday"}, ghEnv, "-started"},
		{[]string{"provenance", "-github", "-dockerfile", "/nonexistent"}, ghEnv, "read the Dockerfile"},
		{[]string{"sbom", "-binary", "x"}, ghEnv, "are required"},
		{[]string{"sbom", "-binary", "x", "-o", "y", "-cyclonedx-gomod", "/nonexistent"}, ghEnv, "cyclonedx-gomod at /nonexistent"},
		{[]string{"provenance", "-no-such-flag"}, ghEnv, "flag provided but not defined"},
	}
	for _, c := range cases {
		var out, errOut bytes.Buffer
		err := run(context.Background(), c.args, c.env, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("run %v = %v, want an error naming %q", c.args, err, c.want)
		}
	}
}
