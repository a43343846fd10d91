// Package rewrite plans and applies the text replacements of a rename over a source tree: every
// text file's content and every path, Go files formatted afterwards, binary files, go.sum and
// tool or state folders left alone. A plan is computed whole before anything is written.
package rewrite

import (
	"bytes"
	"fmt"
	"go/format"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/platform-template/template-api/tools/rename/internal/identity"
)

// Pair is one replacement: Old becomes New wherever Old stands as a whole token (the characters
// around it are not letters, digits or '_', when Old itself begins or ends with one of those).
type Pair struct{ Old, New string }

// Pairs are the replacements that turn the identity from into to, longest first: the GitHub URL
// and the escaped form in the signature subject regexp before the module path, the module path
// before the repository, the repository before the owner wildcard and the app name. Pairs whose
// two sides are equal are dropped, so renaming to the current identity plans nothing.
func Pairs(from, to identity.Identity) []Pair {
	all := []Pair{
		{"https://github.com/" + from.Repo, "https://github.com/" + to.Repo},
		{`github\.com/` + regexp.QuoteMeta(from.Repo), `github\.com/` + regexp.QuoteMeta(to.Repo)},
		{from.Module, to.Module},
		{from.Repo, to.Repo},
		{from.Owner() + "/*", to.Owner() + "/*"},
		{from.Name, to.Name},
	}
	var out []Pair
	for _, p := range all {
		if p.Old != p.New && p.Old != "" {
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].Old) > len(out[j].Old) })
	return out
}

func word(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_'
}

// Replace applies pairs to s in one left-to-right pass (a replacement is never replaced again)
// and returns the result and the number of replacements.
func Replace(s string, pairs []Pair) (string, int) {
	found := false
	for _, p := range pairs {
		if strings.Contains(s, p.Old) {
			found = true
			break
		}
	}
	if !found {
		return s, 0
	}
	var b strings.Builder
	b.Grow(len(s))
	n := 0
	for i := 0; i < len(s); {
		matched := false
		for _, p := range pairs {
			if !strings.HasPrefix(s[i:], p.Old) {
				continue
			}
			end := i + len(p.Old)
			if word(p.Old[0]) && i > 0 && word(s[i-1]) {
				continue
			}
			if word(p.Old[len(p.Old)-1]) && end < len(s) && word(s[end]) {
				continue
			}
			b.WriteString(p.New)
			i = end
			n++
			matched = true
			break
		}
		if !matched {
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), n
}

// skipDirs are never entered: version control, built tools, run state, Terraform caches, build
// outputs.
var skipDirs = map[string]bool{".git": true, ".tools": true, ".run": true, ".terraform": true, "node_modules": true}

// skipTopDirs are build outputs at the root only.
var skipTopDirs = map[string]bool{"bin": true, "dist": true}

// Edit is one file's change.
type Edit struct {
	Path         string // relative, slash-separated
	NewPath      string // equal to Path unless the path holds an old name
	Content      []byte // the new content; nil when only the path changes
	Replacements int
	Formatted    bool // a Go file run through gofmt (go/format) after the replacements
	mode         fs.FileMode
}

// Plan is every edit of a rename, computed without writing anything.
type Plan struct {
	Root  string
	Edits []Edit
	// Skipped counts the binary files (not rewritten).
	Skipped int
}

// Binary reports whether content looks like a binary file (a NUL byte early on, or not UTF-8).
func Binary(content []byte) bool {
	head := content
	if len(head) > 8000 {
		head = head[:8000]
	}
	return bytes.IndexByte(head, 0) >= 0 || !utf8.Valid(content)
}

// Make plans the rename of the tree at root.
func Make(root string, pairs []Pair) (*Plan, error) {
	plan := &Plan{Root: root}
	if len(pairs) == 0 {
		return plan, nil
	}
	newPaths := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (skipDirs[d.Name()] || !strings.Contains(rel, "/") && skipTopDirs[d.Name()]) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || d.Name() == "go.sum" {
			return nil
		}
		content, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read %s: %w", rel, err)
		}
		if Binary(content) {
			plan.Skipped++
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		e := Edit{Path: rel, mode: info.Mode().Perm()}
		e.NewPath, _ = Replace(rel, pairs)
		text, n := Replace(string(content), pairs)
		if n > 0 {
			e.Replacements = n
			e.Content = []byte(text)
			if strings.HasSuffix(rel, ".go") {
				formatted, err := format.Source(e.Content)
				if err != nil {
					return fmt.Errorf("gofmt %s after the rename: %w", rel, err)
				}
				e.Content, e.Formatted = formatted, true
			}
		}
		if e.Content == nil && e.NewPath == rel {
			return nil
		}
		if e.NewPath != rel {
			if other, dup := newPaths[e.NewPath]; dup {
				return fmt.Errorf("%s and %s would both become %s", other, rel, e.NewPath)
			}
			newPaths[e.NewPath] = rel
			if _, err := os.Lstat(filepath.Join(root, filepath.FromSlash(e.NewPath))); err == nil {
				return fmt.Errorf("%s would become %s, which exists already", rel, e.NewPath)
			}
		}
		plan.Edits = append(plan.Edits, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return plan, nil
}

// Counts summarises a plan: files whose content changes, files moved, Go files formatted,
// replacements in all.
func (p *Plan) Counts() (rewritten, moved, formatted, replacements int) {
	for _, e := range p.Edits {
		if e.Content != nil {
			rewritten++
		}
		if e.NewPath != e.Path {
			moved++
		}
		if e.Formatted {
			formatted++
		}
		replacements += e.Replacements
	}
	return
}

// Apply writes the plan: each file replaced atomically (a temporary file renamed over it, mode
// kept), moved files written at their new path and removed from the old one, folders left empty
// by a move removed.
func (p *Plan) Apply() error {
	for _, e := range p.Edits {
		oldAbs := filepath.Join(p.Root, filepath.FromSlash(e.Path))
		newAbs := filepath.Join(p.Root, filepath.FromSlash(e.NewPath))
		content := e.Content
		if content == nil {
			b, err := os.ReadFile(oldAbs)
			if err != nil {
				return fmt.Errorf("read %s: %w", e.Path, err)
			}
			content = b
		}
		if err := os.MkdirAll(filepath.Dir(newAbs), 0o755); err != nil {
			return fmt.Errorf("create the folder of %s: %w", e.NewPath, err)
		}
		if err := writeAtomic(newAbs, content, e.mode); err != nil {
			return fmt.Errorf("write %s: %w", e.NewPath, err)
		}
		if newAbs != oldAbs {
			if err := os.Remove(oldAbs); err != nil {
				return fmt.Errorf("remove %s after moving it to %s: %w", e.Path, e.NewPath, err)
			}
			for dir := filepath.Dir(oldAbs); dir != p.Root && len(dir) > len(p.Root); dir = filepath.Dir(dir) {
				if os.Remove(dir) != nil { // not empty: stop
					break
				}
			}
		}
	}
	return nil
}

func writeAtomic(path string, content []byte, mode fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".rename-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
