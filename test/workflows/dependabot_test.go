package workflows

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/platform-template/template-api/test/internal/repo"
)

type dependabotConfig struct {
	Version int `yaml:"version"`
	Updates []struct {
		Ecosystem   string   `yaml:"package-ecosystem"`
		Directory   string   `yaml:"directory"`
		Directories []string `yaml:"directories"`
		Cooldown    *struct {
			DefaultDays int `yaml:"default-days"`
		} `yaml:"cooldown"`
	} `yaml:"updates"`
}

// dirs lists, per ecosystem, the folder patterns Dependabot watches.
func (c dependabotConfig) dirs() map[string][]string {
	out := map[string][]string{}
	for _, u := range c.Updates {
		if u.Directory != "" {
			out[u.Ecosystem] = append(out[u.Ecosystem], u.Directory)
		}
		out[u.Ecosystem] = append(out[u.Ecosystem], u.Directories...)
	}
	return out
}

func covered(patterns []string, dir string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool {
		ok, err := path.Match(p, dir)
		return err == nil && ok
	})
}

func readDependabot(t *testing.T) dependabotConfig {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repo.MustRoot(t), ".github", "dependabot.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c dependabotConfig
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("parse dependabot.yml: %v", err)
	}
	if c.Version != 2 {
		t.Fatalf("dependabot.yml version %d, want 2", c.Version)
	}
	return c
}

// maxGoModules is how many go.mod files the repository may hold.
const maxGoModules = 10

// Every go.mod of the repository says why it is a module of its own and is kept fresh by Dependabot, and so are the Actions, the
// Dockerfile and the Terraform roots, each with a cooldown.
func TestDependabotCoversEveryGoModule(t *testing.T) {
	root := repo.MustRoot(t)
	c := readDependabot(t)
	dirs := c.dirs()
	modules := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && p != root || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.Name() != "go.mod" {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		dir := "/" + filepath.ToSlash(rel)
		if rel == "." {
			dir = "/"
		}
		modules++
		if data, err := os.ReadFile(p); err != nil || !strings.HasPrefix(string(data), "//") {
			t.Errorf("%s/go.mod does not start with a comment saying why it is a module of its own", strings.TrimSuffix(dir, "/"))
		}
		if !covered(dirs["gomod"], dir) {
			t.Errorf("%s/go.mod is not in .github/dependabot.yml: add %q to the directories of a gomod entry", strings.TrimSuffix(dir, "/"), dir)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Few modules, each with a reason: the service, the tests, one per pinned tool family.
	if modules > maxGoModules {
		t.Errorf("%d go.mod files, at most %d: put new code in the service, the test module or an existing tools module", modules, maxGoModules)
	}
	for eco, want := range map[string]string{"github-actions": "/", "docker": "/", "terraform": "/terraform/envs/production"} {
		if !covered(dirs[eco], want) {
			t.Errorf("dependabot.yml does not watch %s in %s", eco, want)
		}
	}
	for _, u := range c.Updates {
		if u.Cooldown == nil || u.Cooldown.DefaultDays < 1 {
			t.Errorf("the %s entry has no cooldown: a release compromised today would be proposed today", u.Ecosystem)
		}
	}
}
