// Command release is `make release`, the build-scan-sign pipeline run locally:
//
//	release run   build, SBOM, scan, push, sign, attest, verify, check admission; keep the
//	              result for make demo
//
// The workflow writes its SBOM and provenance with test/e2e/cmd/evidence, from the same code.
// See README.md beside this file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/platform-template/template-api/test/e2e/internal/cli"
	"github.com/platform-template/template-api/test/e2e/internal/release"
	"github.com/platform-template/template-api/test/e2e/internal/sbom"
	"github.com/platform-template/template-api/test/internal/cosign"
)

func main() { cli.Main("release", run) }

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: release run [flags]")
	}
	if args[0] != "run" {
		return fmt.Errorf("unknown command %q: want run", args[0])
	}
	return runRelease(ctx, args[1:], getenv, stdout, stderr)
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
