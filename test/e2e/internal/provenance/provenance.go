// Package provenance writes the SLSA v1 provenance predicate of a release: who built the image
// (builder id), from what (the source repository, ref and commit), how (the build type and its
// parameters) and with which inputs (the base images by digest, or the Go toolchain when the
// image is assembled from the binary alone). The same code writes it for `make release` and for
// the build-scan-sign workflow, so the predicate admission checks has one shape everywhere.
//
// The predicate is what `cosign attest --type slsaprovenance1 --predicate` takes: cosign wraps it
// in an in-toto v1 statement whose subject is the image digest.
package provenance

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// PredicateType is the SLSA v1 provenance predicate type (cosign's `--type slsaprovenance1`).
const PredicateType = "https://slsa.dev/provenance/v1"

// Build types. The GitHub one is GitHub's published build type for a top-level workflow
// (github.com/actions/buildtypes, workflow/v1): the workflow writes its provenance to that
// layout. `make release` has its own, documented in test/e2e/cmd/release/README.md.
const (
	GitHubWorkflowBuildType = "https://github.com/actions/buildtypes/workflow/v1"
	LocalBuildType          = "https://github.com/platform-template/template-api/blob/main/test/e2e/cmd/release/README.md#build-type-v1"
)

// Predicate is a SLSA v1 provenance predicate (https://slsa.dev/spec/v1.0/provenance).
type Predicate struct {
	BuildDefinition BuildDefinition `json:"buildDefinition"`
	RunDetails      RunDetails      `json:"runDetails"`
}

// BuildDefinition is what was built and how.
type BuildDefinition struct {
	BuildType            string               `json:"buildType"`
	ExternalParameters   map[string]any       `json:"externalParameters"`
	InternalParameters   map[string]any       `json:"internalParameters,omitempty"`
	ResolvedDependencies []ResourceDescriptor `json:"resolvedDependencies"`
}

// ResourceDescriptor names an input of the build by URI and digest.
type ResourceDescriptor struct {
	URI    string            `json:"uri"`
	Name   string            `json:"name,omitempty"`
	Digest map[string]string `json:"digest,omitempty"`
}

// RunDetails is who built it and when.
type RunDetails struct {
	Builder  Builder  `json:"builder"`
	Metadata Metadata `json:"metadata"`
}

// Builder identifies the entity that ran the build and wrote this provenance.
type Builder struct {
	ID      string            `json:"id"`
	Version map[string]string `json:"version,omitempty"`
}

// Metadata is the invocation's id and times.
type Metadata struct {
	InvocationID string     `json:"invocationId,omitempty"`
	StartedOn    *time.Time `json:"startedOn,omitempty"`
	FinishedOn   *time.Time `json:"finishedOn,omitempty"`
}

// Source is the commit the image was built from.
type Source struct {
	Repository string // https URL without .git, e.g. https://github.com/platform-template/template-api
	Ref        string // git ref, e.g. refs/heads/main (a local detached checkout: the commit)
	Commit     string // full 40-hex commit id
	Modified   bool   // the working tree had uncommitted changes (local builds only)
}

// Image is an image the build used, by digest.
type Image struct {
	Ref    string // as written, e.g. golang:1.26-alpine@sha256:...
	Role   string // e.g. "build stage base", "runtime base"
	Digest string // sha256:<hex>
}

// Inputs is everything a predicate is made from.
type Inputs struct {
	BuildType    string
	BuilderID    string
	Source       Source
	WorkflowPath string         // the file that defines the build: the workflow, or mk/release.mk
	External     map[string]any // further external parameters (local build type only)
	Internal     map[string]any
	BaseImages   []Image // the images the build started from; none for an assembled image
	Toolchain    string  // the Go toolchain version (e.g. go1.26.8), recorded for assembled images
	Tools        map[string]string
	InvocationID string
	Started      time.Time
	Finished     time.Time
}

var (
	commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)
	digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

// New checks the inputs and returns the predicate. Every error names the input at fault.
func New(in Inputs) (Predicate, error) {
	if err := in.check(); err != nil {
		return Predicate{}, err
	}
	source := ResourceDescriptor{
		URI:    "git+" + in.Source.Repository + "@" + in.Source.Ref,
		Digest: map[string]string{"gitCommit": in.Source.Commit},
	}
	deps := []ResourceDescriptor{source}
	for _, img := range in.BaseImages {
		deps = append(deps, ResourceDescriptor{
			URI:    dockerPURL(img.Ref),
			Name:   img.Role,
			Digest: map[string]string{"sha256": strings.TrimPrefix(img.Digest, "sha256:")},
		})
	}
	if in.Toolchain != "" {
		deps = append(deps, ResourceDescriptor{URI: "pkg:golang/toolchain@" + in.Toolchain, Name: "Go toolchain"})
	}
	external := map[string]any{
		"workflow": map[string]any{
			"ref":        in.Source.Ref,
			"repository": in.Source.Repository,
			"path":       in.WorkflowPath,
		},
	}
	for k, v := range in.External {
		external[k] = v
	}
	internal := in.Internal
	if in.Source.Modified {
		internal = map[string]any{"sourceModified": true}
		for k, v := range in.Internal {
			internal[k] = v
		}
	}
	p := Predicate{
		BuildDefinition: BuildDefinition{
			BuildType:            in.BuildType,
			ExternalParameters:   external,
			InternalParameters:   internal,
			ResolvedDependencies: deps,
		},
		RunDetails: RunDetails{
			Builder:  Builder{ID: in.BuilderID, Version: in.Tools},
			Metadata: Metadata{InvocationID: in.InvocationID},
		},
	}
	if !in.Started.IsZero() {
		s := in.Started.UTC().Truncate(time.Second)
		p.RunDetails.Metadata.StartedOn = &s
	}
	if !in.Finished.IsZero() {
		f := in.Finished.UTC().Truncate(time.Second)
		p.RunDetails.Metadata.FinishedOn = &f
	}
	return p, nil
}

func (in Inputs) check() error {
	var errs []error
	if in.BuildType != GitHubWorkflowBuildType && in.BuildType != LocalBuildType {
		errs = append(errs, fmt.Errorf("build type %q: want %s or %s", in.BuildType, GitHubWorkflowBuildType, LocalBuildType))
	}
	if u, err := url.Parse(in.BuilderID); err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "") {
		errs = append(errs, fmt.Errorf("builder id %q: want an absolute URI", in.BuilderID))
	}
	if u, err := url.Parse(in.Source.Repository); err != nil || u.Scheme != "https" || u.Host == "" ||
		strings.HasSuffix(in.Source.Repository, ".git") || strings.HasSuffix(in.Source.Repository, "/") {
		errs = append(errs, fmt.Errorf("source repository %q: want an https URL without .git", in.Source.Repository))
	}
	if !strings.HasPrefix(in.Source.Ref, "refs/") && (in.Source.Ref != in.Source.Commit || in.BuildType == GitHubWorkflowBuildType) {
		errs = append(errs, fmt.Errorf("source ref %q: want a full git ref (refs/heads/..., refs/tags/...), or the commit for a detached checkout", in.Source.Ref))
	}
	if !commitRE.MatchString(in.Source.Commit) {
		errs = append(errs, fmt.Errorf("source commit %q: want 40 lowercase hex digits", in.Source.Commit))
	}
	if in.WorkflowPath == "" {
		errs = append(errs, errors.New("workflow path: empty (the file that defines the build)"))
	}
	for _, img := range in.BaseImages {
		if !digestRE.MatchString(img.Digest) {
			errs = append(errs, fmt.Errorf("base image %q: not pinned by a sha256 digest", img.Ref))
		}
	}
	if len(in.BaseImages) == 0 && in.Toolchain == "" {
		errs = append(errs, errors.New("materials: no base image and no toolchain: the provenance would name no build input besides the source"))
	}
	if in.BuildType == GitHubWorkflowBuildType {
		var extra []string
		for k := range in.External {
			if k != "runner_environment" {
				extra = append(extra, k)
			}
		}
		if len(extra) > 0 {
			slices.Sort(extra)
			errs = append(errs, fmt.Errorf("external parameters %v: the GitHub workflow build type has only workflow and runner_environment", extra))
		}
		if in.Source.Modified {
			errs = append(errs, errors.New("source: a workflow run builds a commit, never a modified tree"))
		}
	}
	if !in.Started.IsZero() && !in.Finished.IsZero() && in.Finished.Before(in.Started) {
		errs = append(errs, errors.New("metadata: finished before it started"))
	}
	return errors.Join(errs...)
}

// dockerPURL writes an image reference as BuildKit's provenance does: pkg:docker/<name>@<tag>,
// with the platform. The digest goes in the descriptor's digest set.
func dockerPURL(ref string) string {
	name, _, _ := strings.Cut(ref, "@")
	tag := "latest"
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name, tag = name[:i], name[i+1:]
	}
	return "pkg:docker/" + name + "@" + tag + "?platform=linux%2Famd64"
}
