package dockerfile

import (
	"bufio"
	"bytes"
	"fmt"
	"go/version"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// One Go version everywhere: the root go.mod's `toolchain` line names the Go release the project
// builds with, and every other place that says which Go builds or tests the code must agree with
// it: the golang base image of the Dockerfile (its tag, the comment above it and its digest), the
// `go-version` of every actions/setup-go step in the workflows, and the go.mod files of every
// module (a `toolchain` line must be the same release; a `go` line, which is a minimum, must not
// ask for a newer one).

// GoImageDigests maps the digest of each golang image index the Dockerfile may pin to the Go
// release inside it. A digest cannot be checked offline, so the mapping is kept here, each entry
// with where it was found in public material; bumping Go means adding the new digest below.
var GoImageDigests = map[string]string{
	// golang:1.26.8-alpine3.24, the multi-platform index that the tags 1.26.8-alpine and
	// 1.26-alpine also pointed at in September 2026: pinned with that tag in many public
	// Dockerfiles (one records it as resolved with `docker buildx imagetools inspect
	// golang:1.26-alpine` on 2026-09-02, "1.26.8-alpine3.24").
	"sha256:ce864e7223ac17b1775e6fd0b4c0db580c2eb50e7953a427916379e4b92a1628": "1.26.8",
	// golang:1.26-alpine as this repository first pinned it; public material labels it Go 1.26.4.
	"sha256:f1ddd9fe14fffc091dd98cb4bfa999f32c5fc77d2f2305ea9f0e2595c5437c14": "1.26.4",
}

// GoPin is one place that names a Go version.
type GoPin struct {
	File    string // relative to the repository root
	Line    int
	What    string // "toolchain", "go directive", "setup-go", "golang image tag", ...
	Version string // as written, without a leading "go"
}

// Drift is one disagreement with the project's Go version.
type Drift struct {
	File   string
	Line   int
	Reason string
}

func (d Drift) String() string { return fmt.Sprintf("%s:%d: %s", d.File, d.Line, d.Reason) }

var (
	goLine        = regexp.MustCompile(`^go\s+(\S+)`)
	toolchainLine = regexp.MustCompile(`^toolchain\s+go(\S+)`)
	exactRelease  = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
	setupGo       = regexp.MustCompile(`^(\s*)(-\s+)?uses:\s*["']?actions/setup-go@`)
	goVersionKey  = regexp.MustCompile(`^\s*go-version:\s*["']?([^"'\s#]*)`)
	goVersionFile = regexp.MustCompile(`^\s*go-version-file:\s*["']?([^"'\s#]*)`)
	goToolchainEn = regexp.MustCompile(`^\s*GOTOOLCHAIN:\s*["']?([^"'\s#]*)`)
	stepStart     = regexp.MustCompile(`^(\s*)-\s`)
	golangImage   = regexp.MustCompile(`^(docker\.io/)?(library/)?golang:([^@]+)@(sha256:[0-9a-f]{64})$`)
	golangAny     = regexp.MustCompile(`^(docker\.io/)?(library/)?golang[:@]`)
)

// skipDirs are never searched for go.mod files: VCS data, built tools, scratch state, fixtures.
var skipDirs = map[string]bool{".git": true, ".tools": true, ".run": true, "bin": true, "node_modules": true, "testdata": true, ".terraform": true}

// CheckGoVersion reads every place under root that names a Go version and returns the project's
// version (the root go.mod's toolchain), every pin it read, and every disagreement.
func CheckGoVersion(root string) (string, []GoPin, []Drift, error) {
	var pins []GoPin
	var drift []Drift

	rootMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", nil, nil, fmt.Errorf("read root go.mod: %w", err)
	}
	want := ""
	if tc := findLines(rootMod, toolchainLine); len(tc) > 0 {
		want = tc[0].value
	}
	switch {
	case want == "":
		return "", nil, []Drift{{"go.mod", 0, "no `toolchain goX.Y.Z` line: the root go.mod must name the one Go release the project builds with"}}, nil
	case !exactRelease.MatchString(want):
		return "", nil, []Drift{{"go.mod", 0, "toolchain go" + want + " is not an exact release (want goX.Y.Z)"}}, nil
	}

	mods, err := findGoMods(root)
	if err != nil {
		return "", nil, nil, err
	}
	for _, rel := range mods {
		p, d, err := checkGoMod(root, rel, want)
		if err != nil {
			return "", nil, nil, err
		}
		pins, drift = append(pins, p...), append(drift, d...)
	}

	p, d, err := checkDockerfile(root, "Dockerfile", want)
	if err != nil {
		return "", nil, nil, err
	}
	pins, drift = append(pins, p...), append(drift, d...)

	workflows, err := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.y*ml"))
	if err != nil {
		return "", nil, nil, err
	}
	sort.Strings(workflows)
	for _, wf := range workflows {
		rel, _ := filepath.Rel(root, wf)
		p, d, err := checkWorkflow(root, rel, want)
		if err != nil {
			return "", nil, nil, err
		}
		pins, drift = append(pins, p...), append(drift, d...)
	}
	return want, pins, drift, nil
}

type lineValue struct {
	line  int
	value string
}

func findLines(src []byte, re *regexp.Regexp) []lineValue {
	var out []lineValue
	sc := bufio.NewScanner(bytes.NewReader(src))
	for n := 1; sc.Scan(); n++ {
		if m := re.FindStringSubmatch(strings.TrimSpace(sc.Text())); m != nil {
			out = append(out, lineValue{n, m[1]})
		}
	}
	return out
}

func findGoMods(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && skipDirs[d.Name()] {
			return filepath.SkipDir
		}
		if !d.IsDir() && d.Name() == "go.mod" {
			rel, _ := filepath.Rel(root, path)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find go.mod files: %w", err)
	}
	sort.Strings(out)
	return out, nil
}

func checkGoMod(root, rel, want string) ([]GoPin, []Drift, error) {
	src, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", rel, err)
	}
	var pins []GoPin
	var drift []Drift
	for _, g := range findLines(src, goLine) {
		pins = append(pins, GoPin{rel, g.line, "go directive", g.value})
		if version.Compare("go"+g.value, "go"+want) > 0 {
			drift = append(drift, Drift{rel, g.line, fmt.Sprintf("go %s asks for a newer Go than the project's %s (root go.mod toolchain)", g.value, want)})
		}
	}
	for _, tc := range findLines(src, toolchainLine) {
		pins = append(pins, GoPin{rel, tc.line, "toolchain", tc.value})
		if tc.value != want {
			drift = append(drift, Drift{rel, tc.line, fmt.Sprintf("toolchain go%s differs from the project's go%s (root go.mod)", tc.value, want)})
		}
	}
	return pins, drift, nil
}

func checkDockerfile(root, rel, want string) ([]GoPin, []Drift, error) {
	src, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", rel, err)
	}
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, nil, fmt.Errorf("parse %s: %w", rel, err)
	}
	var pins []GoPin
	var drift []Drift
	for _, n := range res.AST.Children {
		if !strings.EqualFold(n.Value, "from") || n.Next == nil {
			continue
		}
		image := n.Next.Value
		if !golangAny.MatchString(image) {
			continue
		}
		m := golangImage.FindStringSubmatch(image)
		if m == nil {
			drift = append(drift, Drift{rel, n.StartLine, "golang base " + image + " must be golang:<version>-<variant>@sha256:<digest>"})
			continue
		}
		tag, digest := m[3], m[4]
		tagVersion, _, _ := strings.Cut(tag, "-")
		pins = append(pins, GoPin{rel, n.StartLine, "golang image tag", tagVersion})
		if tagVersion != want {
			drift = append(drift, Drift{rel, n.StartLine, fmt.Sprintf("golang image tag %s is not Go %s (root go.mod toolchain); name the exact release in the tag", tag, want)})
		}
		if got, ok := GoImageDigests[digest]; !ok {
			drift = append(drift, Drift{rel, n.StartLine, "golang image digest " + digest + " is not a known golang image: add it to GoImageDigests (test/dockerfile/toolchain.go) with the public source that names its Go release"})
		} else {
			pins = append(pins, GoPin{rel, n.StartLine, "golang image digest", got})
			if got != want {
				drift = append(drift, Drift{rel, n.StartLine, fmt.Sprintf("golang image digest %s holds Go %s, not %s", digest[:19], got, want)})
			}
		}
		comment := ""
		if len(n.PrevComment) > 0 {
			comment = n.PrevComment[len(n.PrevComment)-1]
		}
		if !strings.Contains(comment, "golang:"+want) {
			drift = append(drift, Drift{rel, n.StartLine, fmt.Sprintf("the comment line right above the golang base must name its tag with Go %s (golang:%s-...), got %q", want, want, comment)})
		}
	}
	if len(pins) == 0 {
		drift = append(drift, Drift{rel, 0, "no golang build stage found: the Dockerfile's Go version cannot be checked"})
	}
	return pins, drift, nil
}

// checkWorkflow reads every actions/setup-go step of one workflow: each must name the project's
// exact Go release in go-version (or read it from the root go.mod with go-version-file), and no
// GOTOOLCHAIN setting may let a step switch to another Go.
func checkWorkflow(root, rel, want string) ([]GoPin, []Drift, error) {
	src, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", rel, err)
	}
	lines := strings.Split(string(src), "\n")
	var pins []GoPin
	var drift []Drift
	for i, l := range lines {
		if m := goToolchainEn.FindStringSubmatch(l); m != nil && m[1] != "local" {
			drift = append(drift, Drift{rel, i + 1, "GOTOOLCHAIN=" + m[1] + " lets Go switch away from " + want + " (only local is allowed)"})
		}
		m := setupGo.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		// The step is the lines up to the next step at the same or a lower indentation.
		indent := len(m[1])
		if m[2] == "" { // `uses:` is not the step's first key: the `- ` is on an earlier line
			for j := i - 1; j >= 0; j-- {
				if s := stepStart.FindStringSubmatch(lines[j]); s != nil {
					indent = len(s[1])
					break
				}
			}
		}
		found := false
		for j := i + 1; j < len(lines); j++ {
			if s := stepStart.FindStringSubmatch(lines[j]); s != nil && len(s[1]) <= indent {
				break
			}
			if v := goVersionKey.FindStringSubmatch(lines[j]); v != nil {
				found = true
				pins = append(pins, GoPin{rel, j + 1, "setup-go go-version", v[1]})
				if v[1] != want {
					drift = append(drift, Drift{rel, j + 1, fmt.Sprintf("setup-go go-version %q is not the project's exact Go release %q (root go.mod toolchain)", v[1], want)})
				}
			}
			if v := goVersionFile.FindStringSubmatch(lines[j]); v != nil {
				found = true
				pins = append(pins, GoPin{rel, j + 1, "setup-go go-version-file", v[1]})
				if filepath.Clean(v[1]) != "go.mod" {
					drift = append(drift, Drift{rel, j + 1, "setup-go go-version-file " + v[1] + " is not the root go.mod, which holds the project's toolchain line"})
				}
			}
		}
		if !found {
			drift = append(drift, Drift{rel, i + 1, "setup-go step without go-version: it would use whatever Go the runner has, not " + want})
		}
	}
	return pins, drift, nil
}
