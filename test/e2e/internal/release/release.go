// Package release is `make release`: the build-scan-sign workflow's pipeline, run locally with
// the same tools, step for step. Build the image, make its SBOM, scan it (when a vulnerability
// database is available, and say so plainly when it is not), push it, sign the pushed digest,
// attest the SBOM and a SLSA v1 provenance, verify all three with cosign, and keep the result
// (the digest, the key's public half, and the image with its signature and attestations as an
// OCI layout) in a folder that `make demo` deploys from.
package release

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/platform-template/template-api/test/e2e/internal/provenance"
	"github.com/platform-template/template-api/test/e2e/internal/sbom"
	"github.com/platform-template/template-api/test/internal/cosign"
	"github.com/platform-template/template-api/test/internal/oci"
)

// The identities a local release claims. The admission policy's local variant
// (policies/kyverno/components/cosign-key) trusts exactly this builder, and both the policy and
// this package name the same source repository (checked by TestPolicyTrustsWhatReleaseClaims).
const (
	LocalBuilderID   = "https://github.com/platform-template/template-api/blob/main/mk/release.mk"
	SourceRepository = "https://github.com/platform-template/template-api"
	// BuildDefinition is the file that defines a local release (the provenance's workflow.path).
	BuildDefinition = "mk/release.mk"
	// ImageName is the repository the image is pushed to in the registry.
	ImageName = "template-api"
)

// Config is one release.
type Config struct {
	Root       string // repository root (a git checkout)
	Dir        string // where the release is kept (.run/release)
	Binary     string // the static service binary (bin/api, built by make with the version stamped)
	Version    string // the image tag and the SBOM's main component version
	Registry   string // host:port to push to; empty: a registry on loopback for the release
	BuilderID  string // default LocalBuilderID
	SourceRepo string // default SourceRepository
	Cosign     cosign.CLI
	SBOM       sbom.Generator
	Scanner    Scanner
	Docker     Docker
	Admission  Admission // the Kyverno CLI: what the cluster will decide
	Log        func(format string, args ...any)
	Now        func() time.Time
}

// Result is what a release produced, as written to <Dir>/release.json.
type Result struct {
	Image      string     `json:"image"`      // <registry>/<name>@sha256:... as pushed
	Name       string     `json:"name"`       // the image's repository name in the registry
	Tag        string     `json:"tag"`        // the tag it was pushed under
	Digest     string     `json:"digest"`     // sha256:...
	Build      string     `json:"build"`      // "dockerfile" or "assembled" (and why)
	PublicKey  string     `json:"publicKey"`  // the key that verifies the signature and attestations
	Layout     string     `json:"layout"`     // OCI layout: the image, its signature and attestations
	SBOM       string     `json:"sbom"`       // the SBOM file attested
	Provenance string     `json:"provenance"` // the provenance predicate file attested
	BuilderID  string     `json:"builderId"`
	Source     SourceInfo `json:"source"`
	Scan       ScanResult `json:"scan"`
	Steps      []Step     `json:"steps"`
}

// SourceInfo is the commit released.
type SourceInfo struct {
	Repository string `json:"repository"`
	Ref        string `json:"ref"`
	Commit     string `json:"commit"`
	Modified   bool   `json:"modified"`
}

// Step is one step's name and duration.
type Step struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// Files in the release folder.
const (
	ResultFile     = "release.json"
	DigestFile     = "digest"
	KeyName        = "cosign" // cosign.key, cosign.pub, cosign.password
	LayoutDir      = "oci"
	SBOMFile       = "sbom.cdx.json"
	ProvenanceFile = "provenance.json"
)

// Run makes the release. It stops at the first failing step and says which. What a previous
// release kept in the folder is withdrawn first (release.json, digest): a failed release leaves
// nothing for make demo to deploy. The key pair stays.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.fill(); err != nil {
		return Result{}, err
	}
	for _, f := range []string{ResultFile, DigestFile} {
		if err := os.Remove(filepath.Join(cfg.Dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return Result{}, fmt.Errorf("withdraw the previous release: %w", err)
		}
	}
	r := &run{cfg: cfg, res: Result{Name: ImageName, BuilderID: cfg.BuilderID}, started: cfg.Now()}
	defer func() {
		if r.registry != nil {
			_ = r.registry.Close(context.Background())
		}
	}()
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"source", r.source}, {"build", r.build}, {"sbom", r.sbom}, {"scan", r.scan}, {"push", r.push},
		{"sign", r.sign}, {"attest", r.attest}, {"verify", r.verify}, {"admission", r.admission}, {"save", r.save},
	}
	for i, step := range steps {
		t := time.Now()
		cfg.Log("release [%d/%d] %s", i+1, len(steps), step.name)
		if err := step.run(ctx); err != nil {
			return r.res, fmt.Errorf("release step %q: %w", step.name, err)
		}
		r.res.Steps = append(r.res.Steps, Step{Name: step.name, Seconds: time.Since(t).Round(time.Millisecond).Seconds()})
	}
	return r.res, nil
}

func (cfg *Config) fill() error {
	if cfg.Root == "" || cfg.Dir == "" || cfg.Binary == "" {
		return errors.New("release: the repository root, the release folder and the binary are required")
	}
	if cfg.Cosign.Path == "" || cfg.SBOM.Path == "" {
		return errors.New("release: cosign and cyclonedx-gomod are required (make release builds them)")
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if !tagRE.MatchString(cfg.Version) {
		return fmt.Errorf("release: version %q is not a valid image tag", cfg.Version)
	}
	if cfg.BuilderID == "" {
		cfg.BuilderID = LocalBuilderID
	}
	if cfg.SourceRepo == "" {
		cfg.SourceRepo = SourceRepository
	}
	if cfg.Log == nil {
		cfg.Log = func(string, ...any) {}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return nil
}

var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

type run struct {
	cfg      Config
	res      Result
	img      v1.Image
	bases    []provenance.Image
	binary   string // the binary as extracted from the image
	sbomDoc  []byte
	key      cosign.KeyPair
	registry *oci.Registry
	ref      string // registry/name@digest
	started  time.Time
}

// source: the commit being released. A release names its commit; a modified tree is allowed
// locally but recorded (in release.json and in the provenance).
func (r *run) source(ctx context.Context) error {
	commit, err := git(ctx, r.cfg.Root, "rev-parse", "HEAD")
	if err != nil {
		return fmt.Errorf("the source must be a git checkout with a commit (the provenance names it): %w", err)
	}
	ref, err := git(ctx, r.cfg.Root, "rev-parse", "--symbolic-full-name", "HEAD")
	if err != nil || !strings.HasPrefix(ref, "refs/") {
		ref = commit // detached HEAD: the commit is the ref
	}
	status, err := git(ctx, r.cfg.Root, "status", "--porcelain", "--untracked-files=no")
	if err != nil {
		return err
	}
	r.res.Source = SourceInfo{Repository: r.cfg.SourceRepo, Ref: ref, Commit: commit, Modified: status != ""}
	mod := ""
	if r.res.Source.Modified {
		mod = " (with uncommitted changes: recorded in the provenance)"
	}
	r.cfg.Log("  source %s %s at %s%s", r.cfg.SourceRepo, ref, commit[:12], mod)
	return nil
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...) // git with the release's own read-only queries
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// build: from the Dockerfile when Docker answers and both of its pinned bases are present,
// else the image the Dockerfile's runtime stage would make, assembled from the static binary.
func (r *run) build(ctx context.Context) error {
	if err := os.MkdirAll(r.cfg.Dir, 0o750); err != nil {
		return fmt.Errorf("release folder: %w", err)
	}
	df, err := os.ReadFile(filepath.Join(r.cfg.Root, "Dockerfile"))
	if err != nil {
		return fmt.Errorf("read the Dockerfile: %w", err)
	}
	bases, err := provenance.DockerfileBases(bytes.NewReader(df))
	if err != nil {
		return err
	}
	labels := map[string]string{
		"org.opencontainers.image.title":    ImageName,
		"org.opencontainers.image.source":   r.cfg.SourceRepo,
		"org.opencontainers.image.revision": r.res.Source.Commit,
		"org.opencontainers.image.version":  r.cfg.Version,
	}
	if ok, why := r.cfg.Docker.CanBuild(ctx, bases); ok {
		r.cfg.Log("  docker build of the Dockerfile (bases present: %s)", baseList(bases))
		img, err := r.cfg.Docker.Build(ctx, r.cfg.Root, r.cfg.Version, labels, filepath.Join(r.cfg.Dir, "docker-image.tar"))
		if err != nil {
			return err
		}
		r.img, r.bases, r.res.Build = img, bases, "dockerfile"
	} else {
		r.cfg.Log("  assembling the image from %s as the Dockerfile's runtime stage lays it out (%s)", r.cfg.Binary, why)
		img, err := oci.Build(oci.ImageSpec{Binary: r.cfg.Binary, Labels: labels})
		if err != nil {
			return err
		}
		r.img, r.res.Build = img, "assembled ("+why+")"
	}
	d, err := r.img.Digest()
	if err != nil {
		return fmt.Errorf("image digest: %w", err)
	}
	r.cfg.Log("  image %s", d)
	return nil
}

func baseList(bases []provenance.Image) string {
	var s []string
	for _, b := range bases {
		s = append(s, b.Ref)
	}
	return strings.Join(s, ", ")
}

// sbom: the SBOM of the binary inside the image (not of the source tree).
func (r *run) sbom(ctx context.Context) error {
	bin := filepath.Join(r.cfg.Dir, "api.from-image")
	if err := oci.ExtractFile(r.img, "api", bin); err != nil {
		return err
	}
	r.binary = bin
	doc, err := r.cfg.SBOM.Binary(ctx, bin, r.cfg.Version)
	if err != nil {
		return err
	}
	s, err := sbom.Summarize(doc)
	if err != nil {
		return err
	}
	r.sbomDoc = doc
	r.res.SBOM = filepath.Join(r.cfg.Dir, SBOMFile)
	if err := os.WriteFile(r.res.SBOM, doc, 0o600); err != nil {
		return fmt.Errorf("write SBOM: %w", err)
	}
	r.cfg.Log("  CycloneDX SBOM of /api: %s, %d component(s) (cyclonedx-gomod %s) -> %s", s.Main, s.Components, r.cfg.SBOM.Version(), r.res.SBOM)
	return nil
}

// scan: before anything is pushed, as in the workflow.
func (r *run) scan(ctx context.Context) error {
	res, err := r.cfg.Scanner.Scan(ctx, r.img, filepath.Join(r.cfg.Dir, "image.tar"))
	r.res.Scan = res
	if err != nil {
		return err
	}
	if !res.Ran {
		r.cfg.Log("  NOT SCANNED: %s", res.Reason)
		r.cfg.Log("  this release has had no vulnerability scan; build-scan-sign scans with Trivy and refuses fixable HIGH/CRITICAL")
		return nil
	}
	r.cfg.Log("  %s", res.Summary)
	return nil
}

// push: to the given registry, or to one on loopback for the release (the layout saved at the
// end carries the image onward).
func (r *run) push(ctx context.Context) error {
	registry := r.cfg.Registry
	if registry == "" {
		reg, err := oci.Serve("127.0.0.1:0")
		if err != nil {
			return err
		}
		r.registry = reg
		registry = reg.Addr
		r.cfg.Log("  no registry given (RELEASE_REGISTRY): a registry on loopback for this release, %s", registry)
	} else if err := oci.Ping(ctx, registry); err != nil {
		return fmt.Errorf("registry %s does not answer: %w", registry, err)
	}
	d, err := oci.Push(ctx, oci.Remote{}, registry+"/"+ImageName+":"+r.cfg.Version, r.img)
	if err != nil {
		return err
	}
	r.ref = d.String()
	r.res.Image, r.res.Digest, r.res.Tag = d.String(), d.DigestStr(), r.cfg.Version
	r.cfg.Log("  pushed %s (tag %s)", r.ref, r.cfg.Version)
	return nil
}

// sign: the digest, with the release's key (made once per release folder).
func (r *run) sign(ctx context.Context) error {
	priv := filepath.Join(r.cfg.Dir, KeyName+".key")
	key, err := cosign.LoadKeyPair(priv)
	if err != nil {
		r.cfg.Log("  generating the release key pair (cosign generate-key-pair, P-256) in %s", r.cfg.Dir)
		if key, err = r.cfg.Cosign.GenerateKeyPair(ctx, r.cfg.Dir, KeyName); err != nil {
			return err
		}
	}
	r.key = key
	r.res.PublicKey = key.PublicKey
	if err := r.cfg.Cosign.Sign(ctx, key, r.ref); err != nil {
		return err
	}
	r.cfg.Log("  cosign sign --key %s %s", key.PrivateKey, r.ref)
	return nil
}

// attest: the SBOM, then the provenance.
func (r *run) attest(ctx context.Context) error {
	if err := r.cfg.Cosign.Attest(ctx, r.key, r.ref, "cyclonedx", r.res.SBOM); err != nil {
		return err
	}
	r.cfg.Log("  cosign attest --type cyclonedx (SBOM)")
	tools := map[string]string{"cosign": r.cosignVersion(ctx), "cyclonedx-gomod": r.cfg.SBOM.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		tools["go"] = info.GoVersion
	}
	in := provenance.Inputs{
		BuildType:    provenance.LocalBuildType,
		BuilderID:    r.cfg.BuilderID,
		Source:       provenance.Source{Repository: r.res.Source.Repository, Ref: r.res.Source.Ref, Commit: r.res.Source.Commit, Modified: r.res.Source.Modified},
		WorkflowPath: BuildDefinition,
		External:     map[string]any{"image": map[string]any{"name": ImageName, "tag": r.cfg.Version, "build": r.res.Build}},
		Internal:     map[string]any{"vulnerabilityScan": r.res.Scan.Record()},
		BaseImages:   r.bases,
		Tools:        tools,
		Started:      r.started,
		Finished:     r.cfg.Now(),
	}
	if len(r.bases) == 0 {
		tc, err := toolchain(r.binary)
		if err != nil {
			return err
		}
		in.Toolchain = tc
	}
	pred, err := provenance.New(in)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(pred, "", "  ")
	if err != nil {
		return fmt.Errorf("encode provenance: %w", err)
	}
	r.res.Provenance = filepath.Join(r.cfg.Dir, ProvenanceFile)
	if err := os.WriteFile(r.res.Provenance, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write provenance: %w", err)
	}
	if err := r.cfg.Cosign.Attest(ctx, r.key, r.ref, "slsaprovenance1", r.res.Provenance); err != nil {
		return err
	}
	r.cfg.Log("  cosign attest --type slsaprovenance1 (builder %s)", r.cfg.BuilderID)
	return nil
}

func (r *run) cosignVersion(ctx context.Context) string {
	v, err := r.cfg.Cosign.Version(ctx)
	if err != nil {
		return "unknown"
	}
	return v
}

// verify: all three, as deploy and admission will, and that what verifies is about this digest
// and says what was attested.
func (r *run) verify(ctx context.Context) error {
	if err := r.cfg.Cosign.Verify(ctx, r.key.PublicKey, r.ref); err != nil {
		return err
	}
	r.cfg.Log("  cosign verify: signature OK")
	for _, a := range []struct{ cosignType, predicateType string }{
		{"cyclonedx", sbom.PredicateType},
		{"slsaprovenance1", provenance.PredicateType},
	} {
		out, err := r.cfg.Cosign.VerifyAttestation(ctx, r.key.PublicKey, r.ref, a.cosignType)
		if err != nil {
			return err
		}
		stmts, err := cosign.Statements(out)
		if err != nil {
			return err
		}
		if err := cosign.CheckStatements(stmts, r.res.Digest, a.predicateType); err != nil {
			return err
		}
		if a.cosignType == "slsaprovenance1" {
			if got := stmts[len(stmts)-1].BuilderID(); got != r.cfg.BuilderID {
				return fmt.Errorf("the verified provenance names builder %q, want %q", got, r.cfg.BuilderID)
			}
		}
		r.cfg.Log("  cosign verify-attestation --type %s: OK (%s on %s)", a.cosignType, a.predicateType, r.res.Digest)
	}
	return nil
}

// admission: the policies the demo installs, trusting this release's key, on the app's
// Deployment with this digest. A refusal fails the release, with the policy's reason.
func (r *run) admission(ctx context.Context) error {
	pub, err := r.key.PublicPEM()
	if err != nil {
		return err
	}
	work := filepath.Join(r.cfg.Dir, "admission")
	if err := os.RemoveAll(work); err != nil {
		return fmt.Errorf("admission folder: %w", err)
	}
	d, err := r.cfg.Admission.Check(ctx, r.cfg.Root, work, r.ref, []byte(pub))
	if err != nil {
		return err
	}
	if len(d.Refusals) > 0 {
		for _, line := range d.Refusals {
			r.cfg.Log("  %s", line)
		}
		return fmt.Errorf("admission would refuse this image (%d refusal(s) above): it is signed, but not deployable here", len(d.Refusals))
	}
	r.cfg.Log("  kyverno apply: the app's Deployment with this digest is ADMITTED by %s (signature, SBOM, provenance)", strings.Join(d.Policies, ", "))
	return os.RemoveAll(work)
}

// save: the image with its signature and attestations as an OCI layout (cosign save), and
// release.json and digest, which make demo reads.
func (r *run) save(ctx context.Context) error {
	r.res.Layout = filepath.Join(r.cfg.Dir, LayoutDir)
	if err := os.RemoveAll(r.res.Layout); err != nil {
		return fmt.Errorf("remove the old layout: %w", err)
	}
	if err := r.cfg.Cosign.Save(ctx, r.ref, r.res.Layout); err != nil {
		return err
	}
	for _, f := range []string{r.binary, filepath.Join(r.cfg.Dir, "image.tar"), filepath.Join(r.cfg.Dir, "docker-image.tar")} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", f, err)
		}
	}
	b, err := json.MarshalIndent(r.res, "", "  ")
	if err != nil {
		return fmt.Errorf("encode release.json: %w", err)
	}
	if err := os.WriteFile(filepath.Join(r.cfg.Dir, ResultFile), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write release.json: %w", err)
	}
	if err := os.WriteFile(filepath.Join(r.cfg.Dir, DigestFile), []byte(r.res.Digest+"\n"), 0o600); err != nil {
		return fmt.Errorf("write digest: %w", err)
	}
	return nil
}

// Load reads the release kept in dir (what make demo deploys).
func Load(dir string) (Result, error) {
	b, err := os.ReadFile(filepath.Join(dir, ResultFile)) // the release folder the caller names
	if err != nil {
		return Result{}, fmt.Errorf("no release in %s (make release makes one): %w", dir, err)
	}
	var res Result
	if err := json.Unmarshal(b, &res); err != nil {
		return Result{}, fmt.Errorf("read %s: %w", filepath.Join(dir, ResultFile), err)
	}
	if res.Digest == "" || res.Layout == "" || res.PublicKey == "" {
		return Result{}, fmt.Errorf("%s is incomplete (no digest, layout or key): run make release again", filepath.Join(dir, ResultFile))
	}
	return res, nil
}

// toolchain is the Go version that built the binary, from its build information.
func toolchain(binary string) (string, error) {
	info, err := buildinfo.ReadFile(binary)
	if err != nil {
		return "", fmt.Errorf("read the Go build information of %s: %w", binary, err)
	}
	return info.GoVersion, nil
}
