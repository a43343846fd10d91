package treetest

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWrite: every file is written at its path with its content, in folders made for it, and a
// script is executable.
func TestWrite(t *testing.T) {
	root := Write(t, map[string]string{"go.mod": "module x\n", "a/b/run.sh": "#!/bin/sh\n"})
	for rel, want := range map[string]struct {
		content string
		mode    os.FileMode
	}{
		"go.mod":     {"module x\n", 0o644},
		"a/b/run.sh": {"#!/bin/sh\n", 0o755},
	} {
		p := filepath.Join(root, filepath.FromSlash(rel))
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want.content || fi.Mode().Perm() != want.mode {
			t.Errorf("%s: %q, mode %v; want %q, %v", rel, b, fi.Mode().Perm(), want.content, want.mode)
		}
	}
}
