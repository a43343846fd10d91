// Command evidence writes the evidence a release attests, with the same code as `make release`
// (test/e2e/cmd/release), for the build-scan-sign workflow:
//
//	evidence sbom -binary api -version v -o sbom.cdx.json -cyclonedx-gomod <path>
//	                       the CycloneDX SBOM of a Go binary (the image's /api)
//	evidence provenance -github [-dockerfile Dockerfile]
//	                       the SLSA v1 provenance predicate of a GitHub Actions run, from the
//	                       GITHUB_* variables and the Dockerfile's pinned bases
//
// It imports only the standard library, the two writers and internal/cli (its main), so the
// workflow builds it in seconds.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/platform-template/template-api/test/e2e/internal/cli"
	"github.com/platform-template/template-api/test/e2e/internal/provenance"
	"github.com/platform-template/template-api/test/e2e/internal/sbom"
)

func main() { cli.Main("evidence", run) }

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: evidence sbom [flags] | evidence provenance [flags]")
	}
	switch args[0] {
	case "sbom":
		return writeSBOM(ctx, args[1:], stdout, stderr)
	case "provenance":
		return printProvenance(args[1:], getenv, stdout, stderr)
	default:
		return fmt.Errorf("unknown command %q: want sbom or provenance", args[0])
	}
}

// writeSBOM writes the SBOM of a Go binary, as make release's SBOM step makes it.
func writeSBOM(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("evidence sbom", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		binary  = fs.String("binary", "", "the Go binary (the image's /api)")
		version = fs.String("version", "", "the version of the main component")
		out     = fs.String("o", "", "output file")
		tool    = fs.String("cyclonedx-gomod", "", "cyclonedx-gomod binary")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *binary == "" || *out == "" || *tool == "" {
		return errors.New("-binary, -o and -cyclonedx-gomod are required")
	}
	gen, err := sbom.Find(*tool)
	if err != nil {
		return err
	}
	doc, err := gen.Binary(ctx, *binary, *version)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, doc, 0o600); err != nil {
		return fmt.Errorf("write the SBOM: %w", err)
	}
	s, err := sbom.Summarize(doc)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "SBOM of %s: %s, %d component(s), cyclonedx-gomod %s -> %s\n", *binary, s.Main, s.Components, gen.Version(), *out)
	return nil
}

// printProvenance prints the predicate of a GitHub Actions run, for `cosign attest --type
// slsaprovenance1 --predicate`: the workflow's builder id, source, run and the Dockerfile's bases.
func printProvenance(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("evidence provenance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		github     = fs.Bool("github", false, "read the run from the GITHUB_* variables (the only source supported)")
		dockerfile = fs.String("dockerfile", "Dockerfile", "the Dockerfile whose FROM lines are the base images")
		started    = fs.String("started", "", "when the build started (RFC 3339), optional")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*github {
		return errors.New("give -github: the provenance of a workflow run comes from the variables GitHub Actions sets (make release writes its own)")
	}
	var start time.Time
	if *started != "" {
		var err error
		if start, err = time.Parse(time.RFC3339, *started); err != nil {
			return fmt.Errorf("-started: %w", err)
		}
	}
	df, err := os.ReadFile(*dockerfile)
	if err != nil {
		return fmt.Errorf("read the Dockerfile: %w", err)
	}
	bases, err := provenance.DockerfileBases(bytes.NewReader(df))
	if err != nil {
		return err
	}
	in, err := provenance.FromGitHubActions(getenv, bases, start, time.Now())
	if err != nil {
		return err
	}
	p, err := provenance.New(in)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}
