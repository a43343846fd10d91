package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"go/format"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/platform-template/template-api/tools/rename/internal/identity"
	"github.com/platform-template/template-api/tools/rename/internal/rewrite"
)

// targets are the identities the whole-repository test renames to: a github.com module (the
// repository is derived from it) and a name of another length than the template's, so nothing
// lines up by accident. The first that shares nothing with the copy's current names is used (a
// repository already renamed to the first is renamed to the second).
var targets = []identity.Identity{
	{Module: "github.com/acme/payments", Name: "payments", Repo: "acme/payments"},
	{Module: "github.com/example-team/billing-api", Name: "billing-api", Repo: "example-team/billing-api"},
}

func target(t *testing.T, old identity.Identity) identity.Identity {
	t.Helper()
	for _, to := range targets {
		if to.Module != old.Module && to.Name != old.Name && to.Repo != old.Repo && to.Owner() != old.Owner() {
			return to
		}
	}
	t.Fatalf("every target shares a name with %s", old)
	return identity.Identity{}
}

// repoRoot is the template's root, two levels above this module.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, identity.NameFile)); err != nil {
		t.Fatalf("%s is not the template's root: %v", root, err)
	}
	return root
}

// copyTracked copies the files git tracks (as they are in the working tree) into dst.
func copyTracked(t *testing.T, src, dst string) int {
	t.Helper()
	out, err := exec.Command("git", "-C", src, "ls-files", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	n := 0
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		from := filepath.Join(src, filepath.FromSlash(rel))
		info, err := os.Lstat(from)
		if os.IsNotExist(err) {
			continue // deleted in the working tree, not yet committed
		}
		if err != nil {
			t.Fatal(err)
		}
		to := filepath.Join(dst, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(from)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, to); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

// command runs name args in dir with extra environment, failing the test with its output.
func command(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	t.Logf("%s %s (%s): ok in %.1fs", name, strings.Join(args, " "), filepath.Base(dir), time.Since(start).Seconds())
	return string(out)
}

// leftovers lists file:line of every text line still naming the old identity. Kept on purpose:
// the platform's label domain "<old owner>.io/" (e.g. platform-template.io/environment, which the
// Kyverno policies key on; it names the platform, not the service) and go.sum files.
func leftovers(t *testing.T, root string, old identity.Identity) []string {
	t.Helper()
	pairs := rewrite.Pairs(old, identity.Identity{Module: "x.invalid/m", Name: "zz-none", Repo: "zz/none"})
	var found []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".terraform" {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() == "go.sum" || !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil || rewrite.Binary(b) {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for line := 1; sc.Scan(); line++ {
			text := sc.Text()
			_, n := rewrite.Replace(text, pairs)
			kept := strings.ReplaceAll(text, old.Owner()+".io/", "")
			kept = strings.ReplaceAll(kept, old.Owner()+".io~1", "") // the same key in a JSON patch path
			if n > 0 || strings.Contains(kept, old.Owner()) {
				found = append(found, fmt.Sprintf("%s:%d: %s", rel, line, strings.TrimSpace(text)))
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestRenameRepository renames a copy of this repository and runs the fast checks there: the
// rename cannot silently break the service, the manifests, the policies or the Terraform.
func TestRenameRepository(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the whole-repository rename (about 1-2 min) runs in `make test-rename`")
	}
	src := repoRoot(t)
	kyverno := os.Getenv("KYVERNO_BIN")
	if kyverno == "" {
		kyverno = filepath.Join(src, ".tools", "bin", "kyverno")
	}
	if _, err := os.Stat(kyverno); err != nil {
		t.Fatalf("the Kyverno CLI is not built (%v): run `make test-rename`, which builds it first (make kyverno-tools)", err)
	}
	if _, err := exec.LookPath("terraform"); err != nil {
		t.Fatalf("terraform is not on PATH: %v", err)
	}

	root := t.TempDir()
	n := copyTracked(t, src, root)
	old, err := identity.Current(root)
	if err != nil {
		t.Fatal(err)
	}
	to := target(t, old)
	newModule, newName := to.Module, to.Name
	t.Logf("copied %d tracked files; renaming %s to %s", n, old, to)

	t.Run("refused arguments change nothing", func(t *testing.T) {
		before := snapshot(t, root)
		err := run([]string{"-root", root, "-module", "not a module", "-name", newName}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "nothing was changed") {
			t.Fatalf("got %v", err)
		}
		if !reflect.DeepEqual(before, snapshot(t, root)) {
			t.Fatal("the tree changed")
		}
	})

	var out bytes.Buffer
	if err := run([]string{"-root", root, "-module", newModule, "-name", newName}, &out); err != nil {
		t.Fatalf("rename: %v\n%s", err, out.String())
	}
	t.Log(strings.TrimSpace(out.String()))
	renamed := snapshot(t, root)

	t.Run("idempotent", func(t *testing.T) {
		var again bytes.Buffer
		if err := run([]string{"-root", root, "-module", newModule, "-name", newName}, &again); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(again.String(), "nothing to change") || !reflect.DeepEqual(renamed, snapshot(t, root)) {
			t.Fatalf("the second run changed something: %s", again.String())
		}
	})

	t.Run("no old name left", func(t *testing.T) {
		if got, err := identity.Current(root); err != nil || got.Module != newModule || got.Name != newName || got.Repo != to.Repo {
			t.Fatalf("current identity after the rename: %+v (%v)", got, err)
		}
		if found := leftovers(t, root, old); len(found) > 0 {
			t.Fatalf("%d lines still name %s:\n%s", len(found), old, strings.Join(found, "\n"))
		}
	})

	t.Run("gofmt clean", func(t *testing.T) {
		var bad []string
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if f, err := format.Source(b); err != nil || !bytes.Equal(f, b) {
				bad = append(bad, p)
			}
			return nil
		})
		if len(bad) > 0 {
			t.Fatalf("not gofmt-ed: %v", bad)
		}
	})

	// The fast checks, one after the other (2 cores are shared).
	t.Run("service: go build, go vet, go test", func(t *testing.T) {
		command(t, root, nil, "go", "build", "./...")
		command(t, root, nil, "go", "vet", "./...")
		command(t, root, nil, "go", "test", "-count=1", "./...")
	})
	t.Run("Go modules of the tests compile", func(t *testing.T) {
		// every go.mod but the root (above) and the tool wrappers (no packages of their own)
		var mods []string
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() != "go.mod" || filepath.Dir(p) == root {
				return err
			}
			rel, _ := filepath.Rel(root, filepath.Dir(p))
			if rel = filepath.ToSlash(rel); !strings.HasPrefix(rel, "tools/") || rel == "tools/rename" {
				mods = append(mods, rel)
			}
			return nil
		})
		if !slices.Contains(mods, "test") || !slices.Contains(mods, "tools/rename") {
			t.Fatalf("the test module and tools/rename must be among the modules found: %v", mods)
		}
		for _, m := range mods {
			command(t, filepath.Join(root, m), nil, "go", "build", "./...")
		}
	})
	t.Run("manifests render and keep their invariants", func(t *testing.T) {
		command(t, filepath.Join(root, "test", "manifests"), nil, "go", "test", "-count=1", "./...")
	})
	t.Run("kyverno test on the renamed policies", func(t *testing.T) {
		out := command(t, filepath.Join(root, "policies", "kyverno", "base"), nil, kyverno, "test", ".", "--remove-color")
		if !strings.Contains(out, " 0 tests failed") {
			t.Fatalf("kyverno test:\n%s", out)
		}
	})
	t.Run("terraform validate", func(t *testing.T) {
		// The caller's CLI config when it exists (make passes terraform/offline.tfrc where the
		// provider mirror is), else the offline mirror when present, else the registry.
		var env []string
		if cfg := os.Getenv("TF_CLI_CONFIG_FILE"); cfg == "" || !exists(cfg) {
			if exists("/opt/tf-plugins/registry.terraform.io") {
				env = append(env, "TF_CLI_CONFIG_FILE="+filepath.Join(root, "terraform", "offline.tfrc"))
			}
		}
		env = append(env, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
		for _, d := range []string{"terraform/envs/staging", "terraform/envs/production", "terraform/bootstrap"} {
			dir := filepath.Join(root, filepath.FromSlash(d))
			command(t, dir, env, "terraform", "init", "-backend=false", "-input=false", "-no-color")
			command(t, dir, env, "terraform", "validate", "-no-color")
		}
	})
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// The leftover check fires on a line naming the old identity and keeps only the label domain.
func TestLeftoversFires(t *testing.T) {
	root := t.TempDir()
	old := identity.Identity{Module: "example.com/org/widget", Name: "widget", Repo: "example-org/widget"}
	files := map[string]string{
		"a.yaml": "labels:\n  example-org.io/environment: production\n  path: /metadata/labels/example-org.io~1environment\n",
		"b.yaml": "ok: payments\nname: widget-db\n",
		"c.tf":   "sub = \"repo:example-org/*\"\n",
		"go.sum": "example.com/org/widget v1 h1:x\n",
	}
	for rel, content := range files {
		if err := os.WriteFile(filepath.Join(root, rel), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := leftovers(t, root, old)
	want := []string{"b.yaml:2: name: widget-db", `c.tf:1: sub = "repo:example-org/*"`}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("leftovers:\n got %q\nwant %q", got, want)
	}
}

// TestReservedNamespacesAreThePlatforms keeps the names rename refuses equal to the namespaces
// the guardrails treat apart: those no guardrail judges (platformNamespaces of the RBAC
// policies, kube-* aside, which rename refuses by prefix) and those allowed NodePort and
// LoadBalancer Services (ingressNamespaces). An app renamed into one would run unguarded, or
// exposed; a name added to a policy and not here fails.
func TestReservedNamespacesAreThePlatforms(t *testing.T) {
	root := repoRoot(t)
	list := regexp.MustCompile(`'([a-z0-9-]+)'`)
	want := []string{"default"} // refused by disallow-default-namespace
	for file, variable := range map[string]string{
		"policies/kyverno/base/restrict-platform-namespace-rbac/policy.yaml": "platformNamespaces",
		"policies/kyverno/base/restrict-service-types/policy.yaml":           "ingressNamespaces",
	} {
		b, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`name: ` + variable + `\n\s+expression: "(\[[^\]]*\])"`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("%s: no variable %s", file, variable)
		}
		for _, ns := range list.FindAllSubmatch(m[1], -1) {
			if n := string(ns[1]); !strings.HasPrefix(n, "kube-") && !slices.Contains(want, n) {
				want = append(want, n)
			}
		}
	}
	if slices.Sort(want); !slices.Contains(want, "kyverno") || !slices.Equal(identity.ReservedNamespaces(), want) {
		t.Fatalf("rename reserves %v; the guardrails treat apart %v", identity.ReservedNamespaces(), want)
	}
	for _, n := range append(want, "kube-system", "kube-public", "kube-node-lease") {
		if err := identity.ValidateName(n); err == nil {
			t.Errorf("ValidateName(%q) accepted a namespace the guardrails treat apart", n)
		}
	}
	// And on the real manifests: the app may not take the demo database's name.
	current, err := identity.Current(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := identity.CheckNameFree(root, current.Name, "postgres"); err == nil || !strings.Contains(err.Error(), "postgres is taken") {
		t.Fatalf("CheckNameFree(postgres) = %v", err)
	}
	if err := identity.CheckNameFree(root, current.Name, "payments"); err != nil {
		t.Fatalf("CheckNameFree(payments) = %v", err)
	}
}
