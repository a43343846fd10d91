package workshop

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/platform-template/template-api/test/internal/repo"
)

// maxFrontPage is the most the root README may weigh: a newcomer reads it in five minutes, and
// each area's detail lives in the README beside its code.
const maxFrontPage = 15 * 1024

var (
	// machinePath is an absolute path of a build machine: a home or work folder, not a path the
	// repository's own configuration names (such as /opt/tf-plugins or /var/run/secrets).
	machinePath = regexp.MustCompile(`(?:^|[\s("'` + "`" + `=:])(/(?:work|root|home|Users|tmp/bash_jobs)/[^\s)"'` + "`" + `]*)`)
	// machineRemark is a remark about the machine the docs were written on, instead of the
	// hardware a figure came from.
	machineRemark = regexp.MustCompile(`(?i)\b(?:this|the build) machine\b|\bmeasured here\b|\brun here\b`)
)

// docProblems lists what a user-facing page must not carry.
func docProblems(text string) []string {
	var out []string
	for _, m := range machinePath.FindAllStringSubmatch(text, -1) {
		out = append(out, fmt.Sprintf("an absolute path of a build machine: %s", m[1]))
	}
	for _, m := range machineRemark.FindAllString(text, -1) {
		out = append(out, fmt.Sprintf("a remark about the machine (%q): say what hardware a figure came from", m))
	}
	return out
}

// TestFrontPage: the root README stays a front page (under 15 KB, with the two commands and the
// three uses), and no markdown page of the repository names a build machine's paths or talks
// about "this machine".
func TestFrontPage(t *testing.T) {
	root := repo.MustRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > maxFrontPage {
		t.Errorf("README.md is %d bytes, more than %d: move the detail into the README of its area or into docs/", len(b), maxFrontPage)
	}
	readme := string(b)
	for _, want := range []string{"make demo", "make test", "make rename", "](docs/workshop/README.md)", "](docs/threat-model.md)"} {
		if !strings.Contains(readme, want) {
			t.Errorf("README.md does not mention %s: the front page gives the two commands and the three uses (starter, demo, workshop)", want)
		}
	}
	for rel, text := range pages(t, root) {
		for _, p := range docProblems(text) {
			t.Errorf("%s: %s", rel, p)
		}
	}
}

// The page checks fire on what they look for, and stay quiet on paths the repository names.
func TestDocProblemsFire(t *testing.T) {
	for text, want := range map[string]string{
		"log: /work/main/.run/demo/service.log":         "absolute path",
		"(see /root/go/pkg/mod)":                        "absolute path",
		"`/home/alice/src`":                             "absolute path",
		"measured on this machine: 3 s":                 "remark about the machine",
		"Measured here after make prefetch":             "remark about the machine",
		"17 s on a 2-core x86_64 VM":                    "",
		"the mirror in /opt/tf-plugins":                 "",
		"mounted at /var/run/secrets/db/password":       "",
		"the folder `test/e2e/testdata/work/x` is kept": "",
	} {
		got := strings.Join(docProblems(text), "; ")
		if want == "" && got != "" || want != "" && !strings.Contains(got, want) {
			t.Errorf("docProblems(%q) = %q, want %q", text, got, want)
		}
	}
}
