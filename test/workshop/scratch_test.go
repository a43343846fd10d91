package workshop

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/platform-template/template-api/test/internal/repo"
)

// gitEnv gives git an identity and no global configuration, so commits work on any machine.
var gitEnv = []string{
	"GIT_AUTHOR_NAME=workshop", "GIT_AUTHOR_EMAIL=workshop@example.invalid",
	"GIT_COMMITTER_NAME=workshop", "GIT_COMMITTER_EMAIL=workshop@example.invalid",
	"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
	// make inside a test starts afresh, not as a sub-make of `make test-workshop`
	"MAKEFLAGS=", "MAKELEVEL=",
}

// scratch copies the repository's files (tracked, and new ones not ignored, as they are in the
// working tree) to a temporary folder and commits them there, as a participant's clone.
func scratch(t *testing.T) string {
	t.Helper()
	src := repo.MustRoot(t)
	dst := t.TempDir()
	out, err := exec.Command("git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		from := filepath.Join(src, filepath.FromSlash(rel))
		info, err := os.Lstat(from)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if !info.Mode().IsRegular() {
			continue
		}
		to := filepath.Join(dst, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	mustRun(t, dst, nil, "git", "init", "-q", "-b", "main")
	mustRun(t, dst, nil, "git", "add", "-A")
	mustRun(t, dst, nil, "git", "commit", "-q", "-m", "the participant's clone")
	return dst
}

// run runs a command in dir and returns its combined output and error (a refusal is an error:
// the caller decides).
func run(t *testing.T, dir string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), gitEnv...), env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("%s %s: %v in %.1fs", name, strings.Join(args, " "), errOrOK(err), time.Since(start).Seconds())
	return string(out), err
}

func errOrOK(err error) any {
	if err == nil {
		return "ok"
	}
	return err
}

func mustRun(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, err := run(t, dir, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// mustFail runs a command that the lab promises is refused.
func mustFail(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, err := run(t, dir, env, name, args...)
	if err == nil {
		t.Fatalf("%s %s succeeded; the lab promises a refusal:\n%s", name, strings.Join(args, " "), out)
	}
	return out
}

// tool is the path of a built tool: from the environment (make passes it) or .tools/bin.
func tool(t *testing.T, env, name string) string {
	t.Helper()
	return repo.Tool(t, env, name, "test-workshop")
}

// terraformEnv points Terraform at the offline provider mirror when it exists and the caller's
// CLI configuration does not.
func terraformEnv(root string) []string {
	env := []string{"TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1"}
	if cfg := os.Getenv("TF_CLI_CONFIG_FILE"); cfg != "" && exists(cfg) {
		return env
	}
	if exists("/opt/tf-plugins/registry.terraform.io") {
		env = append(env, "TF_CLI_CONFIG_FILE="+filepath.Join(root, "terraform", "offline.tfrc"))
	}
	return env
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// markdownFiles lists every .md of the repository but those in build output, tool caches and
// test fixtures.
func markdownFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".tools", ".run", ".terraform", "node_modules", "testdata", "bin":
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
