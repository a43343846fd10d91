package workflows

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/platform-template/template-api/test/internal/repo"
)

// gitleaksBinary is the pinned build (tools/gitleaks); `make test-workflows` passes its path in
// GITLEAKS. Without it the tests fail: a secret scan that silently does not run proves nothing.
func gitleaksBinary(t *testing.T) string {
	t.Helper()
	return repo.Tool(t, "GITLEAKS", "gitleaks", "test-workflows")
}

type leak struct {
	RuleID string
	File   string
	Line   int `json:"StartLine"`
}

// scanDir runs `gitleaks dir` from dir on target and returns the findings.
func scanDir(t *testing.T, dir, config, target string) []leak {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	report := filepath.Join(t.TempDir(), "report.json")
	cmd := exec.CommandContext(ctx, gitleaksBinary(t), "dir", "--no-banner", "--redact",
		"--log-level", "error", "--config", config,
		"--report-format", "json", "--report-path", report, "--exit-code", "0", target)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gitleaks dir %s: %v\n%s", target, err, out)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("read gitleaks report: %v", err)
	}
	var leaks []leak
	if err := json.Unmarshal(data, &leaks); err != nil {
		t.Fatalf("parse gitleaks report: %v\n%s", err, data)
	}
	return leaks
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// defaultRulesOnly is gitleaks' default configuration without this repository's allowlist.
func defaultRulesOnly(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "default.toml")
	writeFile(t, path, "[extend]\nuseDefault = true\n")
	return path
}

const plantedDir = "test/workflows/testdata/secrets"

// The planted fixture, scanned on its own with gitleaks' default rules: every planted line is
// caught. This is what shows the scanner works; the repository scan below must not see it.
func TestGitleaksCatchesThePlantedKeys(t *testing.T) {
	root := repo.MustRoot(t)
	leaks := scanDir(t, root, defaultRulesOnly(t), plantedDir)
	want := map[int]string{ // line -> rule that must catch it
		5: "aws-access-token",
		6: "generic-api-key",
		7: "github-pat",
	}
	got := map[int]string{}
	for _, l := range leaks {
		got[l.Line] = l.RuleID
	}
	for line, rule := range want {
		if got[line] != rule {
			t.Errorf("planted-fake-credentials.env:%d: want gitleaks rule %s, got %q (all findings: %+v)", line, rule, got[line], leaks)
		}
	}
}

// The repository's configuration exempts exactly the planted folder: the fixture scans clean,
// but the same kind of key anywhere else is still caught.
func TestRepositoryConfigAllowlistsOnlyThePlantedFolder(t *testing.T) {
	root := repo.MustRoot(t)
	config := filepath.Join(root, ".gitleaks.toml")
	if leaks := scanDir(t, root, config, plantedDir); len(leaks) != 0 {
		t.Errorf("the planted folder should be allowlisted for the repository scan, got %+v", leaks)
	}

	elsewhere := t.TempDir()
	writeFile(t, filepath.Join(elsewhere, "config", "app.env"), "GITHUB_TOKEN=ghp_"+randomString(t, 36)+"\n")
	leaks := scanDir(t, elsewhere, config, ".")
	if len(leaks) != 1 || leaks[0].RuleID != "github-pat" {
		t.Errorf("a token outside the planted folder must be caught with the repository config, got %+v", leaks)
	}
}

// The pre-commit hook refuses a commit that stages a key, and lets a clean commit through.
func TestPreCommitHookRefusesAStagedKey(t *testing.T) {
	root := repo.MustRoot(t)
	repo := t.TempDir()
	for _, f := range []string{".githooks/pre-commit", ".gitleaks.toml"} {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(repo, f), string(data))
	}
	if err := os.Chmod(filepath.Join(repo, ".githooks", "pre-commit"), 0o755); err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) (string, error) {
		cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GITLEAKS="+gitleaksBinary(t))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	mustGit := func(args ...string) {
		t.Helper()
		if out, err := git(args...); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	mustGit("init", "-q", "-b", "main")
	mustGit("config", "core.hooksPath", ".githooks") // what `make hooks` does
	mustGit("add", ".")
	mustGit("commit", "-q", "-m", "hook and config")

	writeFile(t, filepath.Join(repo, "deploy.env"), "AWS_ACCESS_KEY_ID=AKIA"+randomUpper(t, 16)+"\n")
	mustGit("add", "deploy.env")
	out, err := git("commit", "-m", "add a key")
	if err == nil {
		t.Fatalf("the hook let a staged AWS key through:\n%s", out)
	}
	if !strings.Contains(out, "aws-access-token") || !strings.Contains(out, "the commit is refused") {
		t.Errorf("refusal should name the rule and say the commit is refused, got:\n%s", out)
	}

	writeFile(t, filepath.Join(repo, "deploy.env"), "AWS_REGION=eu-west-1\n")
	mustGit("add", "deploy.env")
	if out, err := git("commit", "-m", "clean config"); err != nil {
		t.Errorf("the hook refused a clean commit: %v\n%s", err, out)
	}
	// Without gitleaks the hook refuses rather than letting commits through unscanned.
	writeFile(t, filepath.Join(repo, "notes.txt"), "hello\n")
	mustGit("add", "notes.txt")
	gitNoScanner := exec.Command("git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", "commit", "-m", "no scanner")
	gitNoScanner.Dir = repo
	gitNoScanner.Env = append(os.Environ(), "GITLEAKS="+filepath.Join(t.TempDir(), "missing-gitleaks"))
	if out, err := gitNoScanner.CombinedOutput(); err == nil || !strings.Contains(string(out), "gitleaks is not built") {
		t.Errorf("with no gitleaks the hook must refuse and say so, got err=%v:\n%s", err, out)
	}

	log, _ := git("log", "--format=%s")
	if got := strings.Fields(strings.ReplaceAll(log, "\n", " ")); !slices.Contains(got, "clean") || strings.Contains(log, "add a key") {
		t.Errorf("history should hold the clean commit and not the refused one, got:\n%s", log)
	}
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomString(t *testing.T, n int) string { return randomFrom(t, alnum, n) }

// randomUpper draws from the alphabet of AWS access key ids.
func randomUpper(t *testing.T, n int) string {
	return randomFrom(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", n)
}

func randomFrom(t *testing.T, alphabet string, n int) string {
	t.Helper()
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			t.Fatal(err)
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b)
}
