package workflows

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/platform-template/template-api/test/internal/repo"
)

// manifestOf is the file (glob) that makes a folder one Dependabot can update, per ecosystem.
var manifestOf = map[string]string{
	"gomod":          "go.mod",
	"docker":         "Dockerfile",
	"terraform":      "*.tf",
	"github-actions": ".github/workflows/*.y*ml",
}

// repoPathInComment is a path of this repository named in a comment of dependabot.yml.
var repoPathInComment = regexp.MustCompile(`(?:^|\s)((?:\.github|docs|test|tools|terraform|policies|k8s|src)/[A-Za-z0-9_./<>*-]*[A-Za-z0-9_])`)

// TestDependabotNamesOnlyWhatExists: every folder dependabot.yml watches exists and holds what its
// ecosystem updates, and every file of the repository its comments point a reader to exists.
func TestDependabotNamesOnlyWhatExists(t *testing.T) {
	root := repo.MustRoot(t)
	data, err := os.ReadFile(filepath.Join(root, ".github", "dependabot.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, problem := range dependabotRefProblems(root, readDependabot(t), string(data)) {
		t.Error(problem)
	}
}

func dependabotRefProblems(root string, c dependabotConfig, text string) []string {
	var out []string
	for eco, patterns := range c.dirs() {
		manifest, known := manifestOf[eco]
		if !known {
			out = append(out, "dependabot.yml: ecosystem "+eco+" is not one this check knows; teach manifestOf")
			continue
		}
		for _, p := range patterns {
			matches, _ := filepath.Glob(filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(p, "/")), manifest))
			if len(matches) == 0 {
				out = append(out, "dependabot.yml watches "+p+" for "+eco+", but no "+manifest+" is there")
			}
		}
	}
	for _, line := range strings.Split(text, "\n") {
		comment, found := strings.CutPrefix(strings.TrimSpace(line), "#")
		if !found {
			continue
		}
		for _, m := range repoPathInComment.FindAllStringSubmatch(comment, -1) {
			ref := m[1]
			if strings.ContainsAny(ref, "<>*") {
				ref = ref[:strings.IndexAny(ref, "<>*")]
			}
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(ref))); err != nil {
				out = append(out, "dependabot.yml's comment names "+m[1]+", which does not exist")
			}
		}
	}
	return out
}

// The reference check fires on a folder without its manifest and on a file that does not exist.
func TestDependabotRefCheckFires(t *testing.T) {
	text := `# see docs/pipeline.md and test/workflows/pins/actions.tsv
# and docs/no-such-page.md
version: 2
updates:
  - package-ecosystem: gomod
    directories: ["/", "/tools/no-such-tool"]
  - package-ecosystem: terraform
    directory: "/terraform/modules/*"
`
	var c dependabotConfig
	if err := yaml.Unmarshal([]byte(text), &c); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(dependabotRefProblems(repo.MustRoot(t), c, text), "\n")
	for _, want := range []string{"/tools/no-such-tool for gomod", "docs/no-such-page.md, which does not exist"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems %q lack %q", got, want)
		}
	}
	for _, exists := range []string{"/terraform/modules/*", "pipeline.md", "actions.tsv", "watches / "} {
		if strings.Contains(got, exists) {
			t.Errorf("problems %q name %s, which exists", got, exists)
		}
	}
}
