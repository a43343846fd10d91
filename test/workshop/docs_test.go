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

var (
	inlineCode = regexp.MustCompile("`([^`\n]+)`")
	mdLink     = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	testName   = regexp.MustCompile(`^(?:Test|Fuzz)[A-Za-z0-9_]+(?:/\S+)?$`)
	checkName  = regexp.MustCompile(`^[A-Z][A-Za-z]+$`)
	tfRun      = regexp.MustCompile(`^run "([a-z0-9_]+)"$`)
	// manifestChecks is "(check `X`)" or "(checks `X`, `Y`)".
	manifestChecks = regexp.MustCompile("\\(checks? ((?:`[A-Za-z]+`(?:, )?)+)\\)")
)

// repoText is the text of the repository's files that docs may name tests in, read once per test.
type repoText struct {
	root string
	// testFuncs holds "func TestX(" / "func FuzzX(" of every _test.go file.
	testFuncs map[string]bool
	files     map[string]string // relative path -> content, for the few files subtests live in
	tfRuns    map[string]bool
}

func loadRepo(t *testing.T, root string) *repoText {
	t.Helper()
	r := &repoText{root: root, testFuncs: map[string]bool{}, files: map[string]string{}, tfRuns: map[string]bool{}}
	funcRe := regexp.MustCompile(`(?m)^func ((?:Test|Fuzz)[A-Za-z0-9_]+)\(`)
	runRe := regexp.MustCompile(`(?m)^run "([a-z0-9_]+)"`)
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == ".tools" || d.Name() == ".run" || d.Name() == ".terraform" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		switch {
		case strings.HasSuffix(p, "_test.go"):
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range funcRe.FindAllStringSubmatch(string(b), -1) {
				r.testFuncs[m[1]] = true
			}
		case strings.HasSuffix(p, ".tftest.hcl"):
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range runRe.FindAllStringSubmatch(string(b), -1) {
				r.tfRuns[m[1]] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *repoText) file(rel string) string {
	if s, ok := r.files[rel]; ok {
		return s
	}
	b, _ := os.ReadFile(filepath.Join(r.root, filepath.FromSlash(rel)))
	r.files[rel] = string(b)
	return r.files[rel]
}

func (r *repoText) exists(rel string) bool {
	_, err := os.Stat(filepath.Join(r.root, filepath.FromSlash(rel)))
	return err == nil
}

// checkTestName says what is wrong with a test a page names, or "" when it exists. A subtest is
// checked where that family's cases are defined.
func (r *repoText) checkTestName(name string) string {
	top, sub, _ := strings.Cut(name, "/")
	if !r.testFuncs[top] {
		return fmt.Sprintf("no func %s in any _test.go", top)
	}
	if sub == "" {
		return ""
	}
	ok := false
	switch top {
	case "TestGuardrailMatrix":
		ok = strings.Contains(r.file("test/e2e/internal/scenario/cases.go"), `"`+sub+`"`)
	case "TestRedTeamPlansRefused": // <class>/<case>, one file of the Terraform red team
		ok = r.exists("policies/terraform/redteam/" + sub + ".tf")
	case "TestEachCheckRefusesItsBadFixture":
		ok = r.exists("test/workflows/testdata/bad/" + sub)
	case "TestRepositoryWorkflowsFollowEveryRule":
		ok = r.exists(".github/workflows/" + sub)
	case "TestBadDockerfilesAreRefused":
		ok = strings.Contains(r.file("test/dockerfile/dockerlint_test.go"), `{"`+strings.ReplaceAll(sub, "_", " ")+`"`)
	case "TestEnvironmentPlans":
		ok = r.exists("terraform/envs/" + sub)
	case "TestLabBreaksAreRefused":
		ok = r.exists("docs/workshop/labs/" + sub)
	case "TestRedTeam": // <class>/<attempt>, defined in the red team's rounds (redteam*.go)
		_, attempt, _ := strings.Cut(sub, "/")
		rounds, _ := filepath.Glob(filepath.Join(r.root, "test", "e2e", "internal", "scenario", "redteam*.go"))
		for _, f := range rounds {
			ok = ok || attempt != "" && strings.Contains(r.file("test/e2e/internal/scenario/"+filepath.Base(f)), `"`+attempt+`"`)
		}
	default:
		return fmt.Sprintf("%s: this check does not know where the subtests of %s are defined (teach checkTestName)", name, top)
	}
	if !ok {
		return fmt.Sprintf("%s: no case %q in %s", name, sub, top)
	}
	return ""
}

// checkInline checks one inline code span of a page: a test name, a manifest check, a terraform
// test run block; other spans are not names and pass.
func (r *repoText) checkInline(span string) string {
	switch {
	case testName.MatchString(span):
		return r.checkTestName(span)
	case tfRun.MatchString(span):
		if name := tfRun.FindStringSubmatch(span)[1]; !r.tfRuns[name] {
			return fmt.Sprintf("no terraform test run %q in terraform/modules/*/tests", name)
		}
	}
	return ""
}

// checkManifestChecks checks the manifest invariants a page names as "(check `X`)" or
// "(checks `X`, `Y`)": each is one of the checks test/manifests runs on every overlay.
func (r *repoText) checkManifestChecks(text string) (named int, problems []string) {
	overlays := r.file("test/manifests/overlays_test.go")
	if strings.Contains(overlays, "invariant.Structural()") {
		// The parameter-free checks are listed once, in invariant.Structural.
		inv := r.file("test/manifests/invariant/invariant.go")
		if i := strings.Index(inv, "func Structural() []Check {"); i >= 0 {
			if j := strings.Index(inv[i:], "\n}\n"); j >= 0 {
				overlays += inv[i : i+j]
			}
		}
	}
	for _, group := range manifestChecks.FindAllStringSubmatch(text, -1) {
		for _, m := range inlineCode.FindAllStringSubmatch(group[1], -1) {
			named++
			if !checkName.MatchString(m[1]) || !strings.Contains(overlays, `"`+m[1]+`"`) && !strings.Contains(overlays, "invariant."+m[1]+"(") {
				problems = append(problems, fmt.Sprintf("manifest check `%s` is not one test/manifests/overlays_test.go runs", m[1]))
			}
		}
	}
	return named, problems
}

// pages are the repository's markdown files (the front README, docs/ and every area's README),
// by path relative to the root: their links and the tests they name are checked.
func pages(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range markdownFiles(t, root) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = string(b)
	}
	if _, ok := out["README.md"]; !ok {
		t.Fatal("no README.md at the root")
	}
	return out
}

// TestThreatModelNamesRealTests: every test, manifest check and terraform run block a page names
// in inline code exists, so a renamed or deleted test is caught here.
func TestThreatModelNamesRealTests(t *testing.T) {
	root := repo.MustRoot(t)
	r := loadRepo(t, root)
	named := 0
	for rel, text := range pages(t, root) {
		for _, m := range inlineCode.FindAllStringSubmatch(text, -1) {
			if testName.MatchString(m[1]) {
				named++
			}
			if problem := r.checkInline(m[1]); problem != "" {
				t.Errorf("%s names `%s`: %s", rel, m[1], problem)
			}
		}
		n, problems := r.checkManifestChecks(text)
		named += n
		for _, p := range problems {
			t.Errorf("%s: %s", rel, p)
		}
	}
	if named < 40 {
		t.Errorf("the pages name only %d tests; the threat model alone names more", named)
	}
}

// TestDocsLinksResolve: every relative link of docs/ and of this area's README section points
// at a file or folder that exists.
func TestDocsLinksResolve(t *testing.T) {
	root := repo.MustRoot(t)
	for rel, text := range pages(t, root) {
		for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			p := filepath.Join(root, filepath.Dir(filepath.FromSlash(rel)), filepath.FromSlash(target))
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s links to %s, which does not exist", rel, m[1])
			}
		}
	}
}

// The name check fires on names that do not exist.
func TestNameCheckFires(t *testing.T) {
	r := loadRepo(t, repo.MustRoot(t))
	for span, want := range map[string]string{
		"TestGuardrailMatrix/unsigned-image":                        "",
		"TestGuardrailMatrix/no-such-case":                          `no case "no-such-case"`,
		"TestNoSuchTest":                                            "no func TestNoSuchTest",
		"TestRedTeamPlansRefused/data/publicly_accessible_override": "",
		"TestRedTeamPlansRefused/data/rds_imaginary":                "no case",
		"TestOverlays/base":                                         "does not know where the subtests",
		`run "least_privilege"`:                                     "",
		`run "no_such_run"`:                                         "no terraform test run",
		"ci-deployer":                                               "",
	} {
		got := r.checkInline(span)
		if want == "" && got != "" || want != "" && !strings.Contains(got, want) {
			t.Errorf("checkInline(%q) = %q, want %q", span, got, want)
		}
	}
}

// The manifest check names fire too.
func TestManifestCheckNamesFire(t *testing.T) {
	r := loadRepo(t, repo.MustRoot(t))
	n, problems := r.checkManifestChecks("a (checks `ContainerResources`, `NoSuchCheck`) and (check `CIDeployerLeastPrivilege`)")
	if n != 3 || len(problems) != 1 || !strings.Contains(problems[0], "NoSuchCheck") {
		t.Fatalf("named %d, problems %q", n, problems)
	}
}
