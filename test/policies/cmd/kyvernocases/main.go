// Command kyvernocases writes, for every policy folder under policies/kyverno/base that has a
// cases.yaml, the resources.yaml and kyverno-test.yaml that `kyverno test` reads (make
// kyverno-cases). With -adopt it first turns the named folders' full resources into cases.yaml.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/platform-template/template-api/test/policies/internal/cases"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "kyvernocases:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("kyvernocases", flag.ContinueOnError)
	root := fs.String("policies", "policies/kyverno", "the Kyverno policy folder (holds base/ and good-workloads.yaml)")
	adopt := fs.String("adopt", "", "comma-separated policy folders whose resources.yaml, written in full, become cases.yaml")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("flags: %w", err)
	}
	bases, err := cases.LoadBases(filepath.Join(*root, "good-workloads.yaml"))
	if err != nil {
		return err
	}
	base := filepath.Join(*root, "base")
	if *adopt != "" {
		for _, name := range strings.Split(*adopt, ",") {
			dir := filepath.Join(base, filepath.Base(name))
			text, err := cases.Adopt(dir, bases)
			if err != nil {
				return fmt.Errorf("adopt %s: %w", name, err)
			}
			if err := os.WriteFile(filepath.Join(dir, cases.CasesFile), text, 0o644); err != nil { //nolint:gosec // a source file
				return fmt.Errorf("write cases: %w", err)
			}
			fmt.Printf("adopted %s into %s\n", name, filepath.Join(dir, cases.CasesFile))
		}
	}
	dirs, err := cases.Folders(base)
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		return errors.New("no policy folder with a cases.yaml under " + base)
	}
	for _, dir := range dirs {
		g, err := cases.Generate(dir, bases)
		if err != nil {
			return err
		}
		for file, content := range map[string][]byte{cases.ResourcesFile: g.Resources, cases.TestFile: g.Test} {
			if err := os.WriteFile(filepath.Join(dir, file), content, 0o644); err != nil { //nolint:gosec // a generated test file
				return fmt.Errorf("write: %w", err)
			}
		}
	}
	fmt.Printf("generated resources.yaml and kyverno-test.yaml in %d policy folders\n", len(dirs))
	return nil
}
