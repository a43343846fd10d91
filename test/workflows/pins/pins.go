// Package pins holds what the pipeline rules know about third-party actions: the commit each
// known release points at and the runtime it runs on (actions.tsv, with where each pair was
// found), the owners whose actions may be used, the runtimes GitHub has retired, and the
// releases known to be compromised.
package pins

import (
	_ "embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

//go:embed actions.tsv
var actionsTSV string

// Release is one known release of an action.
type Release struct {
	Action  string // owner/repo, lower case
	Version string // vX.Y.Z
	Commit  string // the 40-hex commit the release tag points at
	Runs    string // runs.using of its action.yml: node20, node24, composite, docker
	Source  string // where the pair was found
}

// Table is the set of known releases.
type Table struct {
	byCommit  map[string]Release // action@commit
	byVersion map[string]Release // action@version
}

var fullSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)

// Load reads the table shipped with the rules.
func Load() (*Table, error) { return Parse(actionsTSV) }

// Parse reads a table: one release per line, tab-separated, # for comments.
func Parse(text string) (*Table, error) {
	t := &Table{byCommit: map[string]Release{}, byVersion: map[string]Release{}}
	for i, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			return nil, fmt.Errorf("actions.tsv line %d: %d fields, want 5 (action, version, commit, runs, source)", i+1, len(f))
		}
		r := Release{Action: strings.ToLower(f[0]), Version: f[1], Commit: f[2], Runs: f[3], Source: f[4]}
		if err := t.Add(r); err != nil {
			return nil, fmt.Errorf("actions.tsv line %d: %w", i+1, err)
		}
	}
	return t, nil
}

// Add registers a release.
func (t *Table) Add(r Release) error {
	r.Action = strings.ToLower(r.Action)
	switch {
	case !fullSHA.MatchString(r.Commit):
		return fmt.Errorf("%s %s: commit %q is not 40 hex digits", r.Action, r.Version, r.Commit)
	case !semver.MatchString(r.Version):
		return fmt.Errorf("%s: version %q is not vX.Y.Z", r.Action, r.Version)
	case r.Runs == "" || r.Source == "":
		return fmt.Errorf("%s %s: runtime and source are required", r.Action, r.Version)
	}
	if old, ok := t.byVersion[r.Action+"@"+r.Version]; ok && old.Commit != r.Commit {
		return fmt.Errorf("%s %s listed with two commits", r.Action, r.Version)
	}
	t.byCommit[r.Action+"@"+r.Commit] = r
	t.byVersion[r.Action+"@"+r.Version] = r
	return nil
}

// Commit returns the release a commit of an action is known as.
func (t *Table) Commit(action, commit string) (Release, bool) {
	r, ok := t.byCommit[strings.ToLower(action)+"@"+commit]
	return r, ok
}

// Version returns the known release of an action with that version.
func (t *Table) Version(action, version string) (Release, bool) {
	r, ok := t.byVersion[strings.ToLower(action)+"@"+Normalize(version)]
	return r, ok
}

// Releases lists every release, for the table's own tests.
func (t *Table) Releases() []Release {
	out := make([]Release, 0, len(t.byVersion))
	for _, r := range t.byVersion {
		out = append(out, r)
	}
	return out
}

var semver = regexp.MustCompile(`^v\d+\.\d+\.\d+$`)

// Normalize writes a version as vX.Y.Z (a missing v is added).
func Normalize(v string) string {
	v = strings.TrimSpace(v)
	if v != "" && v[0] >= '0' && v[0] <= '9' {
		v = "v" + v
	}
	return v
}

// Compare compares two vX.Y.Z versions; ok is false when either is not one.
func Compare(a, b string) (cmp int, ok bool) {
	pa, oka := parts(Normalize(a))
	pb, okb := parts(Normalize(b))
	if !oka || !okb {
		return 0, false
	}
	for i := range pa {
		switch {
		case pa[i] < pb[i]:
			return -1, true
		case pa[i] > pb[i]:
			return 1, true
		}
	}
	return 0, true
}

func parts(v string) ([3]int, bool) {
	var out [3]int
	if !semver.MatchString(v) {
		return out, false
	}
	for i, p := range strings.Split(v[1:], ".") {
		n, err := strconv.Atoi(p)
		if err != nil {
			return out, false
		}
		out[i] = n
	}
	return out, true
}

// Owners are the accounts whose actions and reusable workflows the pipeline may use. A new
// owner is a decision (its code runs with the job's token): add it here, in review.
var Owners = []string{"actions", "aquasecurity", "aws-actions", "azure", "docker", "github", "hashicorp", "sigstore"}

// RetiredRuntimes are the action runtimes GitHub's runners no longer use by default, with why.
var RetiredRuntimes = map[string]string{
	"node12": "Node 12 was removed from GitHub's runners in 2023",
	"node16": "Node 16 was removed from GitHub's runners in 2024",
	"node20": "Node 20 stopped being the runners' default in June 2026 and is being removed (every other action here runs on node24)",
}

// Compromise is a set of releases known to be malicious, or to have been served malicious code.
type Compromise struct {
	Action string
	// UpTo: every version up to and including this one.
	UpTo string
	// Commits known to be malicious, whatever version they claim.
	Commits  []string
	Advisory string
}

// Compromised lists the known compromises of actions.
var Compromised = []Compromise{
	{
		Action: "aquasecurity/trivy-action", UpTo: "v0.34.2",
		Advisory: "CVE-2026-33634 (GHSA-69fq-xp46-6x23): on 2026-03-19 the tags 0.0.1 to 0.34.2 were force-pushed to a credential stealer; v0.35.0 is the first safe release",
	},
	{
		Action: "aquasecurity/setup-trivy", UpTo: "v0.2.5",
		Advisory: "GHSA-69fq-xp46-6x23: the releases before v0.2.6 were served compromised code in March 2026 and have been removed",
	},
	{
		Action: "tj-actions/changed-files", UpTo: "v45.0.7", Commits: []string{"0e58ed8671d6b60d0890c21b07f8835ace038e67"},
		Advisory: "CVE-2025-30066 (GHSA-mrrh-fwg8-r2c3): in March 2025 every tag up to v45.0.7 pointed at a commit that printed the job's secrets to the log",
	},
}

// CompromisedTrivy lists Trivy releases that were malicious builds.
var CompromisedTrivy = map[string]string{
	"v0.69.4": "GHSA-69fq-xp46-6x23: Trivy v0.69.4 was a malicious build published with the stolen release credentials (March 2026)",
	"v0.69.5": "GHSA-69fq-xp46-6x23: the Trivy 0.69.5 images were malicious builds (March 2026)",
	"v0.69.6": "GHSA-69fq-xp46-6x23: the Trivy 0.69.6 images were malicious builds (March 2026)",
}

// CompromisedRelease says whether an action's version or commit is known to be compromised.
func CompromisedRelease(action, version, commit string) (string, bool) {
	action = strings.ToLower(action)
	for _, c := range Compromised {
		if c.Action != action {
			continue
		}
		for _, bad := range c.Commits {
			if commit == bad {
				return c.Advisory, true
			}
		}
		if cmp, ok := Compare(version, c.UpTo); ok && cmp <= 0 {
			return c.Advisory, true
		}
	}
	return "", false
}
