package release

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platform-template/template-api/test/e2e/internal/provenance"
	"github.com/platform-template/template-api/test/e2e/internal/sbom"
	"github.com/platform-template/template-api/test/internal/cosign"
	"github.com/platform-template/template-api/test/internal/oci/ocitest"
	"github.com/platform-template/template-api/test/internal/repo"
)

// tools returns cosign, cyclonedx-gomod and the Kyverno CLI from COSIGN_BIN,
// CYCLONEDX_GOMOD_BIN and KYVERNO_BIN (make test-release sets them) or .tools/bin; missing tools
// fail the test, never skip it.
func tools(t *testing.T) (cosign.CLI, sbom.Generator, Admission) {
	t.Helper()
	c, err := cosign.Find(repo.Tool(t, "COSIGN_BIN", "cosign", "cosign"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := sbom.Find(repo.Tool(t, "CYCLONEDX_GOMOD_BIN", "cyclonedx-gomod", "cyclonedx-gomod"))
	if err != nil {
		t.Fatal(err)
	}
	k := repo.Tool(t, "KYVERNO_BIN", "kyverno", "kyverno-tools")
	return c, g, Admission{Kyverno: k}
}

// checkout makes a git repository holding what a release reads (the Dockerfile, the k8s
// manifests and the policies, copied from this repository), and a static Go binary to release
// (test/e2e/cmd/probe: small, and a real Go build with build information).
func checkout(t *testing.T) (root, binary string) {
	t.Helper()
	root = t.TempDir()
	src := repo.MustRoot(t)
	for _, dir := range []string{"k8s", "policies/kyverno"} {
		if err := os.CopyFS(filepath.Join(root, dir), os.DirFS(filepath.Join(src, dir))); err != nil {
			t.Fatal(err)
		}
	}
	df, err := os.ReadFile(filepath.Join(src, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "Dockerfile"), df, 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-q", "-m", "release test"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = root, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	binary = filepath.Join(t.TempDir(), "api")
	cmd := exec.Command("go", "build", "-trimpath", "-o", binary, "./cmd/probe")
	cmd.Dir = filepath.Join(repo.MustRoot(t), "test", "e2e")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the test binary: %v\n%s", err, out)
	}
	return root, binary
}

// config is a release of the checkout with no scanner and no Docker here, logging to log.
func config(t *testing.T, root, binary string, log *bytes.Buffer) Config {
	t.Helper()
	c, g, a := tools(t)
	return Config{
		Root: root, Dir: filepath.Join(t.TempDir(), "release"), Binary: binary, Version: "1.2.3-test",
		Cosign: c, SBOM: g, Admission: a,
		Scanner: Scanner{Trivy: filepath.Join(t.TempDir(), "no-trivy")},
		Docker:  Docker{Path: filepath.Join(t.TempDir(), "no-docker")},
		Log:     func(f string, a ...any) { fmt.Fprintf(log, f+"\n", a...) },
	}
}

// TestRelease runs a whole release against a loopback registry, then checks what it produced
// the way deploy and admission would: the signature and both attestations verify with the
// release's key (and not another), the provenance names the builder, this source commit and the
// toolchain, the SBOM is the binary's, the scan says it did not run and why, and the saved
// layout loads into another registry with the same digest, still verifying there.
func TestRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root, binary := checkout(t)
	var log bytes.Buffer
	cfg := config(t, root, binary, &log)
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Logf("release log:\n%s", log.String())
	if !strings.HasPrefix(res.Digest, "sha256:") || !strings.HasSuffix(res.Image, "@"+res.Digest) {
		t.Fatalf("result image %q digest %q", res.Image, res.Digest)
	}
	if res.Scan.Ran || !strings.Contains(res.Scan.Reason, "trivy not found") || !strings.Contains(log.String(), "NOT SCANNED") {
		t.Errorf("scan %+v: want not run, with the reason, said in the log", res.Scan)
	}
	if !strings.HasPrefix(res.Build, "assembled (no docker CLI") {
		t.Errorf("build %q, want assembled because there is no docker", res.Build)
	}
	commit := gitOut(t, root, "rev-parse", "HEAD")
	if res.Source.Commit != commit || res.Source.Ref != "refs/heads/main" || res.Source.Modified {
		t.Errorf("source %+v, want refs/heads/main at %s, unmodified", res.Source, commit)
	}
	loaded, err := Load(cfg.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Digest != res.Digest {
		t.Errorf("release.json digest %s, want %s", loaded.Digest, res.Digest)
	}
	if b, err := os.ReadFile(filepath.Join(cfg.Dir, DigestFile)); err != nil || strings.TrimSpace(string(b)) != res.Digest {
		t.Errorf("digest file: %q, %v", b, err)
	}
	for _, leftover := range []string{"api.from-image", "image.tar", "docker-image.tar"} {
		if _, err := os.Stat(filepath.Join(cfg.Dir, leftover)); err == nil {
			t.Errorf("%s left in the release folder", leftover)
		}
	}

	// The provenance as written: builder, source and the toolchain (an assembled image has no
	// base image).
	var pred provenance.Predicate
	readJSON(t, res.Provenance, &pred)
	if pred.RunDetails.Builder.ID != LocalBuilderID || pred.BuildDefinition.BuildType != provenance.LocalBuildType {
		t.Errorf("builder %q build type %q", pred.RunDetails.Builder.ID, pred.BuildDefinition.BuildType)
	}
	deps := pred.BuildDefinition.ResolvedDependencies
	if len(deps) != 2 || deps[0].URI != "git+"+SourceRepository+"@refs/heads/main" || deps[0].Digest["gitCommit"] != commit ||
		!strings.HasPrefix(deps[1].URI, "pkg:golang/toolchain@go1.") {
		t.Errorf("resolved dependencies %+v", deps)
	}
	if scan, _ := pred.BuildDefinition.InternalParameters["vulnerabilityScan"].(map[string]any); scan["ran"] != false {
		t.Errorf("provenance scan record %v, want ran: false", scan)
	}

	// The SBOM is the binary's: its main component carries the release version.
	doc, err := os.ReadFile(res.SBOM)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sbom.Summarize(doc)
	if err != nil || !strings.HasSuffix(s.Main, "@1.2.3-test") || s.Components == 0 {
		t.Errorf("SBOM summary %+v, %v", s, err)
	}
	if !bytes.Contains(doc, []byte(`"version": "`+cfg.SBOM.Version()+`"`)) {
		t.Errorf("the SBOM does not record cyclonedx-gomod %s as its tool", cfg.SBOM.Version())
	}

	// Another key verifies nothing.
	other, err := cfg.Cosign.GenerateKeyPair(ctx, t.TempDir(), "other")
	if err != nil {
		t.Fatal(err)
	}
	// The release's own registry is gone with the release; the saved layout carries everything
	// to another registry, as make demo does.
	reg := ocitest.Serve(t)
	if err := cfg.Cosign.Load(ctx, res.Layout, reg.Addr+"/"+ImageName); err != nil {
		t.Fatal(err)
	}
	moved := reg.Addr + "/" + ImageName + "@" + res.Digest
	if err := cfg.Cosign.Verify(ctx, res.PublicKey, moved); err != nil {
		t.Fatalf("signature after the move: %v", err)
	}
	if err := cfg.Cosign.Verify(ctx, other.PublicKey, moved); err == nil {
		t.Fatal("the release verified with another key")
	}
	for _, typ := range []struct{ cosign, uri string }{{"cyclonedx", sbom.PredicateType}, {"slsaprovenance1", provenance.PredicateType}} {
		out, err := cfg.Cosign.VerifyAttestation(ctx, res.PublicKey, moved, typ.cosign)
		if err != nil {
			t.Fatalf("%s after the move: %v", typ.cosign, err)
		}
		stmts, err := cosign.Statements(out)
		if err != nil {
			t.Fatal(err)
		}
		if err := cosign.CheckStatements(stmts, res.Digest, typ.uri); err != nil {
			t.Fatal(err)
		}
	}

	// A second release in the same folder reuses the key (the demo keeps trusting it).
	pub1, _ := os.ReadFile(res.PublicKey)
	if _, err := Run(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if pub2, _ := os.ReadFile(res.PublicKey); !bytes.Equal(pub1, pub2) {
		t.Error("a second release made a new key")
	}
	if strings.Contains(log.String(), "COSIGN_PASSWORD") {
		t.Error("the log mentions the key password")
	}

	// A release that fails after a good one withdraws the good one's claim: make demo must not
	// deploy a release older than the last attempt without saying so.
	cfg.BuilderID = ForeignBuilderID
	if _, err := Run(ctx, cfg); err == nil {
		t.Fatal("a release by another builder succeeded")
	}
	if _, err := Load(cfg.Dir); err == nil {
		t.Error("the previous release is still offered after a failed one")
	}
	if _, err := os.Stat(res.PublicKey); err != nil {
		t.Errorf("the failed release removed the key pair: %v", err)
	}
}

// A release that cannot do what it promises stops, says why, and pushes nothing it was not
// meant to: a scan is required but impossible; the registry does not answer; the source is not
// a git checkout; the version is not a tag.
func TestReleaseRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root, binary := checkout(t)
	cases := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"scan required", func(c *Config) { c.Scanner.Require = true }, "RELEASE_REQUIRE_SCAN"},
		{"registry down", func(c *Config) { c.Registry = "127.0.0.1:1" }, "does not answer"},
		{"not a checkout", func(c *Config) { c.Root = t.TempDir() }, "git checkout"},
		{"bad version", func(c *Config) { c.Version = "1.0/evil" }, "not a valid image tag"},
		{"no binary", func(c *Config) { c.Binary = filepath.Join(t.TempDir(), "missing") }, "read binary"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var log bytes.Buffer
			cfg := config(t, root, binary, &log)
			c.mutate(&cfg)
			_, err := Run(ctx, cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Run = %v, want an error naming %q", err, c.want)
			}
			if _, err := os.Stat(filepath.Join(cfg.Dir, ResultFile)); err == nil {
				t.Error("a failed release wrote release.json")
			}
		})
	}
}

// A build from somewhere else (the workshop's lab 08): signed, attested and verified by cosign
// with the release's key, and still refused, because the provenance names a builder the platform
// does not trust. The refusal is Kyverno's, with the policy and its reason; nothing is kept for
// make demo.
func TestReleaseFromAnotherBuilderIsRefused(t *testing.T) {
	t.Parallel()
	root, binary := checkout(t)
	var log bytes.Buffer
	cfg := config(t, root, binary, &log)
	cfg.BuilderID = ForeignBuilderID
	_, err := Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "admission would refuse") {
		t.Fatalf("Run = %v, want refused by admission\n%s", err, log.String())
	}
	for _, want := range []string{
		"cosign verify: signature OK",
		"cosign verify-attestation --type slsaprovenance1: OK",
		"REFUSED by Kyverno verify-image-signatures: provenance: image(s) built by a builder the platform does not trust",
		"(builder " + ForeignBuilderID + ")",
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log does not say %q:\n%s", want, log.String())
		}
	}
	if _, err := os.Stat(filepath.Join(cfg.Dir, ResultFile)); err == nil {
		t.Error("a refused release wrote release.json")
	}
}

// The scanner says why it cannot scan: no trivy, or trivy without its database.
func TestScannerSaysWhyNot(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "trivy")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		s    Scanner
		want string
	}{
		{"not installed", Scanner{Trivy: filepath.Join(dir, "missing")}, "trivy not found"},
		{"no database", Scanner{Trivy: fake, CacheDir: filepath.Join(dir, "cache")}, "no vulnerability database"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := c.s.Scan(context.Background(), nil, filepath.Join(dir, "img.tar"))
			if err != nil || res.Ran || !strings.Contains(res.Reason, c.want) {
				t.Fatalf("Scan = %+v, %v; want not run because %q", res, err, c.want)
			}
			c.s.Require = true
			if _, err := c.s.Scan(context.Background(), nil, filepath.Join(dir, "img.tar")); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("required scan: %v, want an error naming %q", err, c.want)
			}
		})
	}
}

func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}
