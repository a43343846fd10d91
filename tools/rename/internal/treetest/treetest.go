// Package treetest writes the small trees of files the rename's tests run on.
package treetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Write writes files (slash-separated path relative to the tree -> content) into a new temporary
// folder, creating the folders they need, and returns that folder. Scripts (*.sh) are
// executable, so that a test can see their mode kept; other files are 0644.
func Write(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for rel, content := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil { //nolint:gosec // a test's temporary tree, laid out as a checkout is
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(rel, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	return root
}
