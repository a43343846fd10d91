// Command release is `make release` (the build-scan-sign pipeline, run locally) and the
// provenance writer the workflow itself uses:
//
//	release run          build, SBOM, scan, push, sign, attest, verify, check admission; keep the
//	                     result for make demo
//	release sbom         write the CycloneDX SBOM of a Go binary (the workflow's SBOM step: the
//	                     same generator and the same fixes as make release)
//	release provenance   print the SLSA v1 provenance predicate of a GitHub Actions run (in the
//	                     workflow: from the GITHUB_* variables and the Dockerfile's bases)
//
// See README.md beside this file.
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
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/platform-template/template-api/test/e2e/internal/cosign"
	"github.com/platform-template/template-api/test/e2e/internal/provenance"
	"github.com/platform-template/template-api/test/e2e/internal/release"
	"github.com/platform-template/template-api/test/e2e/internal/sbom"
)

func main() {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "release: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: release run [flags] | release sbom [flags] | release provenance [flags]")
	}
	switch args[0] {
	case "run":
		return runRelease(ctx, args[1:], getenv, stdout, stderr)
	case "sbom":
		return writeSBOM(ctx, args[1:], stdout, stderr)
	case "provenance":
		return printProvenance(args[1:], getenv, stdout, stderr)
	default:
		return fmt.Errorf("unknown command %q: want run, sbom or provenance", args[0])
	}
}

func runRelease(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("release run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		root        = fs.String("root", "", "repository root (a git checkout)")
		dir         = fs.String("dir", "", "release folder (default <root>/.run/release)")
		binary      = fs.String("binary", "", "the static service binary (default <root>/bin/api)")
		version     = fs.String("version", "dev", "image tag and SBOM version")
		registry    = fs.String("registry", getenv("RELEASE_REGISTRY"), "registry host:port to push to (default: one on loopback for the release)")
		builderID   = fs.String("builder-id", getenv("RELEASE_BUILDER_ID"), "the builder the provenance names (default "+release.LocalBuilderID+")")
		cosignPath  = fs.String("cosign", "", "cosign binary (default <root>/.tools/bin/cosign)")
		sbomPath    = fs.String("cyclonedx-gomod", "", "cyclonedx-gomod binary (default <root>/.tools/bin/cyclonedx-gomod)")
		kyverno     = fs.String("kyverno", "", "Kyverno CLI, for the admission check (default <root>/.tools/bin/kyverno)")
		trivy       = fs.String("trivy", getenv("RELEASE_TRIVY"), "trivy binary (default: trivy on PATH, if any)")
		requireScan = fs.Bool("require-scan", getenv("RELEASE_REQUIRE_SCAN") == "1", "fail when no vulnerability scan can run")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *root == "" {
		return errors.New("-root is required")
	}
	or := func(v, def string) string {
		if v != "" {
			return v
		}
		return def
	}
	tools := filepath.Join(*root, ".tools", "bin")
	cs, err := cosign.Find(or(*cosignPath, filepath.Join(tools, "cosign")))
	if err != nil {
		return err
	}
	gen, err := sbom.Find(or(*sbomPath, filepath.Join(tools, "cyclonedx-gomod")))
	if err != nil {
		return err
	}
	cfg := release.Config{
		Root:      *root,
		Dir:       or(*dir, filepath.Join(*root, ".run", "release")),
		Binary:    or(*binary, filepath.Join(*root, "bin", "api")),
		Version:   *version,
		Registry:  *registry,
		BuilderID: *builderID,
		Cosign:    cs,
		SBOM:      gen,
		Scanner:   release.Scanner{Trivy: *trivy, Require: *requireScan},
		Admission: release.Admission{Kyverno: or(*kyverno, filepath.Join(tools, "kyverno"))},
		Log:       func(format string, a ...any) { fmt.Fprintf(stdout, format+"\n", a...) },
	}
	start := time.Now()
	res, err := release.Run(ctx, cfg)
	if err != nil {
		return err
	}
	scan := "scanned: " + res.Scan.Summary
	if !res.Scan.Ran {
		scan = "NOT SCANNED: " + res.Scan.Reason
	}
	fmt.Fprintf(stdout, "\nrelease: done in %.1f s\n", time.Since(start).Seconds())
	fmt.Fprintf(stdout, "  image       %s\n  build       %s\n  scan        %s\n  sbom        %s\n  provenance  %s (builder %s)\n  public key  %s\n  kept in     %s (make demo deploys it)\n",
		res.Image, res.Build, scan, res.SBOM, res.Provenance, res.BuilderID, res.PublicKey, filepath.Join(cfg.Dir, release.ResultFile))
	fmt.Fprintf(stdout, "digest: %s\n", res.Digest)
	return nil
}

// writeSBOM writes the SBOM of a Go binary, as make release's SBOM step makes it.
func writeSBOM(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("release sbom", flag.ContinueOnError)
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
	fs := flag.NewFlagSet("release provenance", flag.ContinueOnError)
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
