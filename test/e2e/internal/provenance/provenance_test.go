package provenance

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const commit = "0123456789abcdef0123456789abcdef01234567"

func goodInputs() Inputs {
	return Inputs{
		BuildType:    LocalBuildType,
		BuilderID:    "https://github.com/platform-template/template-api/blob/main/mk/release.mk",
		Source:       Source{Repository: "https://github.com/platform-template/template-api", Ref: "refs/heads/main", Commit: commit},
		WorkflowPath: "mk/release.mk",
		BaseImages:   []Image{{Ref: "golang:1.26-alpine@sha256:" + strings.Repeat("a", 64), Role: "base image of stage build", Digest: "sha256:" + strings.Repeat("a", 64)}},
		Tools:        map[string]string{"cosign": "v3.1.2"},
		Started:      time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC),
		Finished:     time.Date(2026, 12, 2, 8, 1, 0, 0, time.UTC),
	}
}

// TestNewWritesWhatAdmissionReads: the fields the admission policy reads are where it reads
// them: the builder id, and the source as a git+ dependency with its commit.
func TestNewWritesWhatAdmissionReads(t *testing.T) {
	p, err := New(goodInputs())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		BuildDefinition struct {
			BuildType            string `json:"buildType"`
			ResolvedDependencies []struct {
				URI    string            `json:"uri"`
				Digest map[string]string `json:"digest"`
			} `json:"resolvedDependencies"`
			ExternalParameters struct {
				Workflow struct{ Repository, Ref, Path string } `json:"workflow"`
			} `json:"externalParameters"`
		} `json:"buildDefinition"`
		RunDetails struct {
			Builder struct {
				ID string `json:"id"`
			} `json:"builder"`
		} `json:"runDetails"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.RunDetails.Builder.ID != goodInputs().BuilderID {
		t.Errorf("builder id %q", doc.RunDetails.Builder.ID)
	}
	deps := doc.BuildDefinition.ResolvedDependencies
	if len(deps) != 2 {
		t.Fatalf("dependencies %+v, want the source and the base image", deps)
	}
	if deps[0].URI != "git+https://github.com/platform-template/template-api@refs/heads/main" || deps[0].Digest["gitCommit"] != commit {
		t.Errorf("source dependency %+v", deps[0])
	}
	if deps[1].URI != "pkg:docker/golang@1.26-alpine?platform=linux%2Famd64" || deps[1].Digest["sha256"] != strings.Repeat("a", 64) {
		t.Errorf("base image dependency %+v", deps[1])
	}
	if w := doc.BuildDefinition.ExternalParameters.Workflow; w.Repository != goodInputs().Source.Repository || w.Path != "mk/release.mk" {
		t.Errorf("external parameters %+v", w)
	}
}

func TestNewRefusesBadInputs(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Inputs)
		want   string
	}{
		{"unknown build type", func(i *Inputs) { i.BuildType = "https://example.com/other" }, "build type"},
		{"relative builder id", func(i *Inputs) { i.BuilderID = "make-release" }, "builder id"},
		{"empty builder id", func(i *Inputs) { i.BuilderID = "" }, "builder id"},
		{"repository with .git", func(i *Inputs) { i.Source.Repository += ".git" }, "source repository"},
		{"repository over http", func(i *Inputs) { i.Source.Repository = "http://github.com/a/b" }, "source repository"},
		{"repository as ssh", func(i *Inputs) { i.Source.Repository = "git@github.com:a/b" }, "source repository"},
		{"short ref", func(i *Inputs) { i.Source.Ref = "main" }, "source ref"},
		{"workflow at a bare commit", func(i *Inputs) {
			i.BuildType = GitHubWorkflowBuildType
			i.Source.Ref = commit
		}, "source ref"},
		{"short commit", func(i *Inputs) { i.Source.Commit = commit[:12] }, "source commit"},
		{"uppercase commit", func(i *Inputs) { i.Source.Commit = strings.ToUpper(commit) }, "source commit"},
		{"no workflow path", func(i *Inputs) { i.WorkflowPath = "" }, "workflow path"},
		{"base by tag", func(i *Inputs) { i.BaseImages[0].Digest = "1.26-alpine" }, "not pinned"},
		{"no materials", func(i *Inputs) { i.BaseImages = nil }, "materials"},
		{"workflow with extra parameter", func(i *Inputs) {
			i.BuildType = GitHubWorkflowBuildType
			i.External = map[string]any{"image": "x"}
		}, "external parameters [image]"},
		{"workflow from a modified tree", func(i *Inputs) {
			i.BuildType = GitHubWorkflowBuildType
			i.Source.Modified = true
		}, "modified tree"},
		{"finished before started", func(i *Inputs) { i.Finished = i.Started.Add(-time.Second) }, "finished before"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := goodInputs()
			in.BaseImages = append([]Image(nil), in.BaseImages...)
			c.mutate(&in)
			_, err := New(in)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New = %v, want an error naming %q", err, c.want)
			}
		})
	}
}

// A local build from a modified tree says so; the toolchain stands in for a base image when
// the image is the binary alone.
func TestNewRecordsModifiedTreeAndToolchain(t *testing.T) {
	in := goodInputs()
	in.BaseImages = nil
	in.Toolchain = "go1.26.8"
	in.Source.Modified = true
	p, err := New(in)
	if err != nil {
		t.Fatal(err)
	}
	if p.BuildDefinition.InternalParameters["sourceModified"] != true {
		t.Errorf("internal parameters %v, want sourceModified", p.BuildDefinition.InternalParameters)
	}
	deps := p.BuildDefinition.ResolvedDependencies
	if len(deps) != 2 || deps[1].URI != "pkg:golang/toolchain@go1.26.8" {
		t.Errorf("dependencies %+v, want the source and the Go toolchain", deps)
	}
}

// The repository's own Dockerfile: two bases, both pinned, the last one the runtime base.
func TestDockerfileBasesOfTheRepository(t *testing.T) {
	df, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	bases, err := DockerfileBases(bytes.NewReader(df))
	if err != nil {
		t.Fatal(err)
	}
	if len(bases) != 2 || !strings.HasPrefix(bases[0].Ref, "golang:") || !strings.Contains(bases[1].Role, "runtime") {
		t.Fatalf("bases %+v, want the golang build base and the runtime base", bases)
	}
	for _, b := range bases {
		if !digestRE.MatchString(b.Digest) {
			t.Errorf("base %s digest %q", b.Ref, b.Digest)
		}
	}
}

func TestDockerfileBases(t *testing.T) {
	d := "@sha256:" + strings.Repeat("b", 64)
	cases := []struct {
		name, dockerfile string
		want             []string // base refs, in order
		wantErr          string
	}{
		{"stage reused", "FROM golang" + d + " AS build\nRUN x\nFROM build AS test\nFROM distroless" + d + "\n", []string{"golang" + d, "distroless" + d}, ""},
		{"platform flag", "from --platform=linux/amd64 alpine" + d + "\n", []string{"alpine" + d}, ""},
		{"tag only", "FROM golang:1.26-alpine AS build\n", nil, "not pinned"},
		{"digest too short", "FROM golang@sha256:abc\n", nil, "not pinned"},
		{"argument as base", "ARG BASE\nFROM ${BASE}\n", nil, "not pinned"},
		{"no FROM", "RUN true\n", nil, "no FROM"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bases, err := DockerfileBases(strings.NewReader(c.dockerfile))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, b := range bases {
				got = append(got, b.Ref)
			}
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Fatalf("bases %v, want %v", got, c.want)
			}
		})
	}
}

func githubEnv() map[string]string {
	return map[string]string{
		"GITHUB_SERVER_URL":          "https://github.com",
		"GITHUB_REPOSITORY":          "platform-template/template-api",
		"GITHUB_REF":                 "refs/heads/main",
		"GITHUB_SHA":                 commit,
		"GITHUB_WORKFLOW_REF":        "platform-template/template-api/.github/workflows/build-scan-sign.yaml@refs/heads/main",
		"GITHUB_RUN_ID":              "42",
		"GITHUB_RUN_ATTEMPT":         "1",
		"GITHUB_EVENT_NAME":          "push",
		"GITHUB_REPOSITORY_ID":       "1000",
		"GITHUB_REPOSITORY_OWNER_ID": "2000",
		"RUNNER_ENVIRONMENT":         "github-hosted",
	}
}

// In a workflow run the builder id is the workflow at its ref: the same string as the keyless
// signing identity the policy pins.
func TestFromGitHubActions(t *testing.T) {
	env := githubEnv()
	bases := goodInputs().BaseImages
	in, err := FromGitHubActions(func(k string) string { return env[k] }, bases, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(in)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.RunDetails.Builder.ID, "https://github.com/platform-template/template-api/.github/workflows/build-scan-sign.yaml@refs/heads/main"; got != want {
		t.Errorf("builder id %q, want %q", got, want)
	}
	if p.BuildDefinition.BuildType != GitHubWorkflowBuildType {
		t.Errorf("build type %q", p.BuildDefinition.BuildType)
	}
	w := p.BuildDefinition.ExternalParameters["workflow"].(map[string]any)
	if w["path"] != ".github/workflows/build-scan-sign.yaml" || w["repository"] != "https://github.com/platform-template/template-api" {
		t.Errorf("workflow %v", w)
	}
	if p.RunDetails.Metadata.InvocationID != "https://github.com/platform-template/template-api/actions/runs/42/attempts/1" {
		t.Errorf("invocation %q", p.RunDetails.Metadata.InvocationID)
	}
}

func TestFromGitHubActionsRefuses(t *testing.T) {
	cases := map[string]struct {
		key, value, want string
	}{
		"outside a run":         {"GITHUB_SHA", "", "GITHUB_SHA unset"},
		"workflow of elsewhere": {"GITHUB_WORKFLOW_REF", "someone/else/.github/workflows/x.yaml@refs/heads/main", "is not <GITHUB_REPOSITORY>"},
		"workflow at other ref": {"GITHUB_WORKFLOW_REF", "platform-template/template-api/.github/workflows/x.yaml@refs/heads/dev", "is not <GITHUB_REPOSITORY>"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			env := githubEnv()
			env[c.key] = c.value
			_, err := FromGitHubActions(func(k string) string { return env[k] }, nil, time.Time{}, time.Time{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}
