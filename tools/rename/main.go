// Command rename turns a copy of the template into your service in one step: the Go module path
// and every import, the app name (image, Kubernetes namespace, names and labels, Terraform names
// and tags), the GitHub repository (signature subject, OIDC trust, workflows), then gofmt.
//
//	rename -module github.com/acme/payments -name payments [-repo acme/payments] [-root .] [-dry-run]
//
// The current names are read from the tree (root go.mod, the base Deployment's
// app.kubernetes.io/name, the Terraform identity module's github_repository), so running it twice
// changes nothing the second time, and a renamed copy can be renamed again. Arguments are
// validated, and the whole rename planned, before any file is written.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/platform-template/template-api/tools/rename/internal/identity"
	"github.com/platform-template/template-api/tools/rename/internal/rewrite"
)

// usageError is a refused argument (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "rename: %v\n", err)
		var usage usageError
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("rename", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	module := fs.String("module", "", "new Go module path, e.g. github.com/acme/payments")
	name := fs.String("name", "", "new app name (namespace, image, labels), e.g. payments")
	repo := fs.String("repo", "", "GitHub repository owner/name (default: from a github.com module path)")
	root := fs.String("root", ".", "root of the copy of the template to rename")
	dryRun := fs.Bool("dry-run", false, "print what would change, write nothing")
	if err := fs.Parse(args); err != nil {
		return usageError{fmt.Sprintf("%v (flags: -module, -name, -repo, -root, -dry-run)", err)}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	to, err := identity.New(*module, *name, *repo)
	if err != nil {
		return usageError{fmt.Sprintf("refused, nothing was changed:\n%v", err)}
	}
	from, err := identity.Current(*root)
	if err != nil {
		return fmt.Errorf("nothing was changed: %w", err)
	}
	if err := identity.CheckNameFree(*root, from.Name, to.Name); err != nil {
		return usageError{fmt.Sprintf("refused, nothing was changed:\n%v", err)}
	}
	pairs := rewrite.Pairs(from, to)
	if len(pairs) == 0 {
		fmt.Fprintf(stdout, "rename: already %s; nothing to change\n", to)
		return nil
	}
	plan, err := rewrite.Make(*root, pairs)
	if err != nil {
		return fmt.Errorf("nothing was changed: %w", err)
	}
	rewritten, moved, formatted, n := plan.Counts()
	fmt.Fprintf(stdout, "rename: from %s\nrename:   to %s\n", from, to)
	if *dryRun {
		for _, e := range plan.Edits {
			if e.NewPath != e.Path {
				fmt.Fprintf(stdout, "  %s -> %s (%d replacements)\n", e.Path, e.NewPath, e.Replacements)
			} else {
				fmt.Fprintf(stdout, "  %s (%d replacements)\n", e.Path, e.Replacements)
			}
		}
		fmt.Fprintf(stdout, "rename: dry run: %d files would be rewritten (%d replacements), %d moved; nothing written\n", rewritten, n, moved)
		return nil
	}
	if err := plan.Apply(); err != nil {
		return fmt.Errorf("rename stopped part way (re-run it to finish, it is idempotent): %w", err)
	}
	fmt.Fprintf(stdout, "rename: %d files rewritten (%d replacements, %d Go files gofmt-ed), %d moved, %d binary files left alone\n",
		rewritten, n, formatted, moved, plan.Skipped)
	fmt.Fprintln(stdout, "rename: next: go mod tidy is not needed; run `make test` (tools rebuild once: their go.mod module lines changed)")
	return nil
}
