package dockerfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const repoRoot = "../.."

// TestGoVersionIsTheSameEverywhere reads the repository itself: the Dockerfile's golang image
// (tag, comment and digest), every setup-go step of the workflows and every go.mod agree with the
// root go.mod's toolchain line.
func TestGoVersionIsTheSameEverywhere(t *testing.T) {
	want, pins, drift, err := CheckGoVersion(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range drift {
		t.Errorf("Go version drift: %s", d)
	}
	// The check must have read every kind of place, or agreement means nothing.
	kinds := map[string]int{}
	for _, p := range pins {
		kinds[p.What]++
	}
	for _, k := range []string{"toolchain", "go directive", "golang image tag", "golang image digest", "setup-go go-version"} {
		if kinds[k] == 0 {
			t.Errorf("no %s read (pins: %v)", k, kinds)
		}
	}
	mods, err := findGoMods(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	if kinds["go directive"] != len(mods) || len(mods) < 2 {
		t.Errorf("read %d go directives in %d go.mod files", kinds["go directive"], len(mods))
	}
	t.Logf("Go %s: %d pins agree (%v)", want, len(pins), kinds)
}

// TestGoVersionDriftIsRefused breaks a copy of the repository's Go pins in one place at a time and
// asserts the reason the check gives.
func TestGoVersionDriftIsRefused(t *testing.T) {
	want, _, _, err := CheckGoVersion(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	other := "1.26.7"
	if want == other {
		other = "1.26.6"
	}
	replace := func(file, old, new string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			t.Helper()
			p := filepath.Join(dir, file)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), old) {
				t.Fatalf("%s does not contain %q: the fixture no longer applies", file, old)
			}
			if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	write := func(file, content string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			t.Helper()
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, file)), 0o750); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	const oldDigest = "sha256:f1ddd9fe14fffc091dd98cb4bfa999f32c5fc77d2f2305ea9f0e2595c5437c14"
	const unknownDigest = "sha256:0000000000000000000000000000000000000000000000000000000000000001"
	dockerfile := func(tag, digest, comment string) string {
		return "# " + comment + "\nFROM golang:" + tag + "@" + digest + " AS build\nRUN go build -o /api .\n" +
			"FROM scratch\nCOPY --from=build /api /api\nUSER 65532:65532\n"
	}
	var goodDigest string
	for d, v := range GoImageDigests {
		if v == want {
			goodDigest = d
		}
	}
	workflow := "jobs:\n  test:\n    steps:\n      - uses: actions/checkout@v5\n      - name: Set up Go\n        uses: actions/setup-go@v6\n        with:\n%s      - run: make test\n"
	tests := []struct {
		name   string
		break_ func(t *testing.T, dir string)
		reason string
	}{
		{"workflow on another patch release", write(".github/workflows/x.yaml", strings.Replace(workflow, "%s", "          go-version: \""+other+"\"\n", 1)),
			`setup-go go-version "` + other + `" is not the project's exact Go release`},
		{"workflow on a floating version", write(".github/workflows/x.yaml", strings.Replace(workflow, "%s", "          go-version: 1.26.x\n", 1)),
			`setup-go go-version "1.26.x" is not the project's exact Go release`},
		{"workflow on stable", write(".github/workflows/x.yaml", strings.Replace(workflow, "%s", "          go-version: stable # newest\n", 1)),
			`go-version "stable"`},
		{"setup-go without a version", write(".github/workflows/x.yaml", strings.Replace(workflow, "%s", "          cache: true\n", 1)),
			"setup-go step without go-version"},
		{"setup-go reading another go.mod", write(".github/workflows/x.yaml", strings.Replace(workflow, "%s", "          go-version-file: test/e2e/go.mod\n", 1)),
			"go-version-file test/e2e/go.mod is not the root go.mod"},
		{"GOTOOLCHAIN auto in a workflow", write(".github/workflows/x.yaml", "env:\n  GOTOOLCHAIN: auto\n"+strings.Replace(workflow, "%s", "          go-version: \""+want+"\"\n", 1)),
			"GOTOOLCHAIN=auto lets Go switch"},
		{"Dockerfile on the old image", write("Dockerfile", dockerfile("1.26.4-alpine", oldDigest, "golang:1.26.4-alpine")),
			"golang image tag 1.26.4-alpine is not Go " + want},
		{"Dockerfile digest of another release under the right tag", write("Dockerfile", dockerfile(want+"-alpine", oldDigest, "golang:"+want+"-alpine")),
			"holds Go 1.26.4, not " + want},
		{"Dockerfile floating minor tag", write("Dockerfile", dockerfile("1.26-alpine", goodDigest, "golang:1.26-alpine")),
			"golang image tag 1.26-alpine is not Go " + want},
		{"Dockerfile unknown digest", write("Dockerfile", dockerfile(want+"-alpine", unknownDigest, "golang:"+want+"-alpine")),
			"is not a known golang image"},
		{"Dockerfile comment names another release", write("Dockerfile", dockerfile(want+"-alpine", goodDigest, "golang:"+other+"-alpine")),
			"the comment line right above the golang base must name its tag with Go " + want},
		{"Dockerfile golang base by tag only", write("Dockerfile", "FROM golang:"+want+"-alpine AS build\nFROM scratch\nUSER 1\n"),
			"must be golang:<version>-<variant>@sha256:<digest>"},
		{"Dockerfile without a golang stage", write("Dockerfile", "FROM scratch\nUSER 1\n"),
			"no golang build stage found"},
		{"root toolchain line removed", replace("go.mod", "toolchain go"+want+"\n", ""),
			"no `toolchain goX.Y.Z` line"},
		{"root toolchain not an exact release", replace("go.mod", "toolchain go"+want, "toolchain go1.26"),
			"is not an exact release"},
		{"root toolchain bumped alone", replace("go.mod", "toolchain go"+want, "toolchain go1.26.99"),
			"golang image tag " + want},
		{"module asks for a newer Go", write("test/extra/go.mod", "module example.com/extra\n\ngo 1.26.99\n"),
			"go 1.26.99 asks for a newer Go than the project's " + want},
		{"module toolchain on another release", write("tools/extra/go.mod", "module example.com/extra\n\ngo 1.26\n\ntoolchain go"+other+"\n"),
			"toolchain go" + other + " differs from the project's go" + want},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyGoPins(t)
			if _, _, drift, err := CheckGoVersion(dir); err != nil || len(drift) != 0 {
				t.Fatalf("the unbroken copy does not pass: %v %v", drift, err)
			}
			tc.break_(t, dir)
			_, _, drift, err := CheckGoVersion(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range drift {
				if strings.Contains(d.Reason, tc.reason) {
					return
				}
			}
			t.Fatalf("want a drift %q, got %v", tc.reason, drift)
		})
	}
}

// copyGoPins copies every file CheckGoVersion reads (the go.mod files, the Dockerfile and the
// workflows) into a temporary folder laid out like the repository.
func copyGoPins(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	mods, err := findGoMods(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	workflows, err := filepath.Glob(filepath.Join(repoRoot, ".github", "workflows", "*.y*ml"))
	if err != nil {
		t.Fatal(err)
	}
	files := append([]string{"Dockerfile"}, mods...)
	for _, w := range workflows {
		rel, _ := filepath.Rel(repoRoot, w)
		files = append(files, rel)
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(repoRoot, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
