package workshop

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/platform-template/template-api/test/internal/repo"
)

// lab is one docs/workshop lab: its page, its break (a file under docs/workshop/labs/<num>, or
// none when the harness itself makes the bad request), and the commands the page tells the
// participant to run, run here on a scratch clone; they return the output in which every line of
// labs/<num>/expected.txt must appear.
type lab struct {
	num   string
	page  string
	brk   string // break.patch (git apply), break.sh (run), or "" (the command is the break)
	check func(t *testing.T, clone string) string
}

func labs() []lab {
	return []lab{
		{num: "01", page: "01-demo-and-scoreboard.md", check: func(t *testing.T, clone string) string {
			// One row per refusing component, as the scoreboard shows them.
			return e2e(t, `TestGuardrailMatrix/(psa-privileged|kyverno-privileged|ci-read-secret)$`)
		}},
		{num: "02", page: "02-privileged-deployment.md", brk: "break.patch", check: func(t *testing.T, clone string) string {
			kyverno := tool(t, "KYVERNO_BIN", "kyverno")
			policy := "policies/kyverno/base/pod-security-restricted/policy.yaml"
			control := render(t, clone)
			if out := mustRun(t, clone, nil, kyverno, "apply", policy, "--resource", control, "--remove-color"); !strings.Contains(out, "fail: 0,") {
				t.Fatalf("control: the unbroken overlay is refused:\n%s", out)
			}
			applyBreak(t, clone, "02")
			out := mustFail(t, clone, nil, kyverno, "apply", policy, "--resource", render(t, clone), "--remove-color")
			return out + mustFail(t, clone, nil, "make", "test-manifests")
		}},
		{num: "03", page: "03-unsigned-image.md", check: func(t *testing.T, clone string) string {
			return e2e(t, `TestGuardrailMatrix/(unsigned-image|wrong-signature)$`)
		}},
		{num: "04", page: "04-ci-cluster-admin.md", brk: "break.patch", check: func(t *testing.T, clone string) string {
			kyverno := tool(t, "KYVERNO_BIN", "kyverno")
			policy := "policies/kyverno/base/disallow-service-account-cluster-admin/policy.yaml"
			if out := mustRun(t, clone, nil, kyverno, "apply", policy, "--resource", render(t, clone), "--remove-color"); !strings.Contains(out, "fail: 0,") {
				t.Fatalf("control: the unbroken overlay is refused:\n%s", out)
			}
			applyBreak(t, clone, "04")
			out := mustFail(t, clone, nil, kyverno, "apply", policy, "--resource", render(t, clone), "--remove-color")
			return out + mustFail(t, clone, nil, "make", "test-manifests")
		}},
		{num: "05", page: "05-database-open-to-the-world.md", brk: "break.patch", check: func(t *testing.T, clone string) string {
			applyBreak(t, clone, "05")
			return mustFail(t, filepath.Join(clone, "test", "e2e"), terraformEnv(clone),
				"go", "test", "-count=1", "-run", "TestEnvironmentPlans/staging", "./terraform/")
		}},
		{num: "06", page: "06-leaked-secret.md", brk: "break.sh", check: func(t *testing.T, clone string) string {
			env := []string{"GITLEAKS=" + tool(t, "GITLEAKS", "gitleaks")}
			mustRun(t, clone, env, "git", "config", "core.hooksPath", ".githooks") // what `make hooks` does
			before := mustRun(t, clone, nil, "git", "rev-parse", "HEAD")
			out := mustFail(t, clone, env, "bash", "docs/workshop/labs/06/break.sh")
			if after := mustRun(t, clone, nil, "git", "rev-parse", "HEAD"); after != before {
				t.Fatalf("the commit went through: HEAD moved from %s to %s", before, after)
			}
			// the fix the page gives: unstage and remove, then a clean commit passes the hook
			mustRun(t, clone, nil, "git", "rm", "-q", "--cached", "deploy.env")
			if err := os.Remove(filepath.Join(clone, "deploy.env")); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(clone, "deploy.env"), []byte("AWS_REGION=eu-west-1\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			mustRun(t, clone, nil, "git", "add", "deploy.env")
			mustRun(t, clone, env, "git", "commit", "-q", "-m", "deploy settings without the key")
			return out
		}},
		{num: "07", page: "07-compromised-action.md", brk: "break.patch", check: func(t *testing.T, clone string) string {
			dir := filepath.Join(clone, "test", "workflows")
			mustRun(t, dir, nil, "go", "test", "-count=1", "-run", "TestRepositoryWorkflowsFollowEveryRule", "./...")
			applyBreak(t, clone, "07")
			return mustFail(t, dir, nil, "go", "test", "-count=1", "-run", "TestRepositoryWorkflowsFollowEveryRule", "./...")
		}},
		{num: "08", page: "08-build-from-somewhere-else.md", check: func(t *testing.T, clone string) string {
			// The command of step 2 in the real repository (it needs the built tools), its
			// release kept in a folder of its own; step 1's release is the control.
			root := repo.MustRoot(t)
			mustRun(t, root, nil, "make", "release", "RELEASE_DIR="+t.TempDir())
			dir := t.TempDir()
			out := mustFail(t, root, nil, "make", "release", "RELEASE_DIR="+dir,
				"RELEASE_BUILDER_ID=https://github.com/someone-else/builder/.github/workflows/build.yaml@refs/heads/main")
			if _, err := os.Stat(filepath.Join(dir, "release.json")); err == nil {
				t.Fatal("the refused release was kept for make demo")
			}
			return out
		}},
		{num: "09", page: "09-who-tried-a-privileged-pod.md", brk: "break.sh", check: func(t *testing.T, clone string) string {
			// Step 2 on a cluster of its own (the e2e test runs the repository's break.sh), then
			// step 3's query on the audit log that cluster left in its state folder.
			dir := t.TempDir()
			out := e2eIn(t, dir, `TestAuditWhoTriedAPrivilegedPod$`)
			logs, err := filepath.Glob(filepath.Join(dir, "*", "logs", "audit", "audit.log"))
			if err != nil || len(logs) != 1 {
				t.Fatalf("the run left %d audit logs in %s (%v), want one", len(logs), dir, err)
			}
			return out + mustRun(t, filepath.Join(repo.MustRoot(t), "test", "e2e"), nil,
				"go", "run", "./cmd/demo", "audit", "-file", logs[0], "-grep", "privileged", "-resource", "pods")
		}},
	}
}

// applyBreak applies labs/<num>/break.patch the way the page says: git apply.
func applyBreak(t *testing.T, clone, num string) {
	t.Helper()
	patch := filepath.Join("docs", "workshop", "labs", num, "break.patch")
	if out, err := run(t, clone, nil, "git", "apply", patch); err != nil {
		t.Fatalf("the break of lab %s no longer applies to the repository (the file it changes moved on):\n%s\n"+
			"make the same change by hand, save `git diff` as %s, and paste it into the lab's page", num, out, patch)
	}
}

// render writes the kind overlay as `make render-kind` prints it and returns the file.
func render(t *testing.T, clone string) string {
	t.Helper()
	out := mustRun(t, clone, nil, "make", "-s", "render-kind")
	f, err := os.CreateTemp(t.TempDir(), "kind-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(out); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// e2e runs the command the page gives, `make test-e2e E2E_RUN=... E2E_VERBOSE=1`, in the real
// repository (the harness builds and signs its own images), with its state in a folder of its
// own so it cannot disturb a demo or another run. On the local control plane unless the caller
// chose a mode (E2E_CLUSTER): a kind cluster per lab would take minutes where Docker answers.
func e2e(t *testing.T, cases string) string {
	t.Helper()
	return e2eIn(t, t.TempDir(), cases)
}

// e2eIn is e2e with the run's state (the cluster's logs, its audit log) kept in dir.
func e2eIn(t *testing.T, dir, cases string) string {
	t.Helper()
	env := []string{"E2E_RUN_DIR=" + dir}
	if os.Getenv("E2E_CLUSTER") == "" {
		env = append(env, "E2E_CLUSTER=local")
	}
	return mustRun(t, repo.MustRoot(t), env, "make", "test-e2e", "E2E_RUN="+cases, "E2E_VERBOSE=1")
}

func readLab(t *testing.T, root, num, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docs", "workshop", "labs", num, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func expectedLines(t *testing.T, root, num string) []string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(readLab(t, root, num, "expected.txt"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		t.Fatalf("labs/%s/expected.txt promises nothing", num)
	}
	return lines
}

// TestLabPagesQuoteTheirBreakAndRefusal: a page cannot drift from what the lab test runs. It
// quotes its break file whole and every refusal line of expected.txt, and there is a page for
// every lab folder and the other way round.
func TestLabPagesQuoteTheirBreakAndRefusal(t *testing.T) {
	root := repo.MustRoot(t)
	var pages, folders, want []string
	entries, err := os.ReadDir(filepath.Join(root, "docs", "workshop"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() && len(e.Name()) > 3 && e.Name()[2] == '-' && strings.HasSuffix(e.Name(), ".md") {
			pages = append(pages, e.Name())
		}
	}
	if entries, err = os.ReadDir(filepath.Join(root, "docs", "workshop", "labs")); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		folders = append(folders, e.Name())
	}
	var nums []string
	for _, l := range labs() {
		want = append(want, l.page)
		nums = append(nums, l.num)
	}
	sort.Strings(pages)
	if strings.Join(pages, " ") != strings.Join(want, " ") || strings.Join(folders, " ") != strings.Join(nums, " ") {
		t.Fatalf("pages %v and lab folders %v; the lab table has %v and %v", pages, folders, want, nums)
	}
	if len(want) < 5 || len(want) > 9 {
		t.Errorf("%d labs; the workshop has five to nine", len(want))
	}
	for _, l := range labs() {
		t.Run(l.num, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(root, "docs", "workshop", l.page))
			if err != nil {
				t.Fatal(err)
			}
			var brk string
			if l.brk != "" {
				brk = readLab(t, root, l.num, l.brk)
			}
			for _, p := range pageProblems(string(b), brk, expectedLines(t, root, l.num)) {
				t.Errorf("%s: %s", l.page, p)
			}
		})
	}
}

// pageProblems lists what a lab page lacks: the four sections, its break file quoted whole, and
// every line of the refusal it promises.
func pageProblems(page, brk string, expected []string) []string {
	var out []string
	for _, section := range []string{"## Goal", "## Steps", "## Expected output", "## The fix"} {
		if !strings.Contains(page, section) {
			out = append(out, fmt.Sprintf("no %q section", section))
		}
	}
	if brk != "" && !strings.Contains(page, brk) {
		out = append(out, "the break file is not quoted whole (copy it into the page)")
	}
	for _, line := range expected {
		if !strings.Contains(page, line) {
			out = append(out, fmt.Sprintf("the refusal %q is not quoted", line))
		}
	}
	return out
}

// The page check fires: a page that drifted from its break or its refusal is reported.
func TestPageCheckFires(t *testing.T) {
	brk := "diff --git a/x b/x\n-privileged: false\n+privileged: true\n"
	good := "## Goal\n## Steps\n```diff\n" + brk + "```\n## Expected output\nrefused: privileged\n## The fix\n"
	if p := pageProblems(good, brk, []string{"refused: privileged"}); len(p) != 0 {
		t.Fatalf("good page reported: %v", p)
	}
	cases := map[string]string{
		"break changed":   strings.Replace(good, "+privileged: true", "+privileged: yes", 1),
		"refusal changed": strings.Replace(good, "refused: privileged", "refused: root", 1),
		"no fix section":  strings.Replace(good, "## The fix", "## Afterwards", 1),
	}
	for name, page := range cases {
		if p := pageProblems(page, brk, []string{"refused: privileged"}); len(p) != 1 {
			t.Errorf("%s: want one problem, got %v", name, p)
		}
	}
}

// TestLabBreaksAreRefused runs every lab on a scratch clone and asserts the refusal it promises.
func TestLabBreaksAreRefused(t *testing.T) {
	root := repo.MustRoot(t)
	for _, l := range labs() {
		t.Run(l.num, func(t *testing.T) {
			clone := scratch(t)
			out := l.check(t, clone)
			for _, line := range expectedLines(t, root, l.num) {
				if !strings.Contains(out, line) {
					t.Errorf("lab %s promises %q; the output was:\n%s", l.num, line, out)
				}
			}
		})
	}
}
