// Package repo finds, for the tests, the repository they run in and the tools make built for
// them (.tools/bin): one rule for every test package, wherever go test runs it.
package repo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Root is the repository root: the nearest folder at or above the working folder that holds
// k8s/, policies/ and go.mod (go test runs each package in its own folder).
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working folder: %w", err)
	}
	return rootAbove(dir)
}

func rootAbove(dir string) (string, error) {
	for {
		if isDir(filepath.Join(dir, "k8s")) && isDir(filepath.Join(dir, "policies")) && isFile(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no repository root (a folder with k8s/, policies/ and go.mod) above the working folder")
		}
		dir = parent
	}
}

// MustRoot is Root for a test: not finding it fails the test.
func MustRoot(t testing.TB) string {
	t.Helper()
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// ToolPath is where a tool make built is: the file the variable env names (make sets it for the
// targets that need the tool), else <root>/.tools/bin/<name>. It does not check that it is there.
func ToolPath(root, env, name string) string {
	if p := os.Getenv(env); p != "" {
		return p
	}
	return filepath.Join(root, ".tools", "bin", name)
}

// Tool is ToolPath for a test, checked: a missing tool fails the test, never skips it, since a
// check that silently does not run proves nothing. The message says which make target builds it.
func Tool(t testing.TB, env, name, target string) string {
	t.Helper()
	p := ToolPath(MustRoot(t), env, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is not built (%v): `make %s` builds it", name, err, target)
	}
	return p
}

func isDir(p string) bool  { st, err := os.Stat(p); return err == nil && st.IsDir() }
func isFile(p string) bool { st, err := os.Stat(p); return err == nil && !st.IsDir() }
