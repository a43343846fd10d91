package policies_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/platform-template/template-api/test/internal/cosign"
	"github.com/platform-template/template-api/test/internal/oci"
	"github.com/platform-template/template-api/test/internal/oci/ocitest"
	"github.com/platform-template/template-api/test/internal/repo"
	"github.com/platform-template/template-api/test/policies/internal/kyverno"
	"github.com/platform-template/template-api/test/policies/internal/render"
)

// TestImageEvidence: a signature is not enough. Images signed with the trusted key but missing
// a piece of the release's evidence, or carrying evidence that says the wrong thing, are each
// refused with the check that fails named in the message; the image with all of it is admitted.
// The SBOM and provenance attested are a real release's (testdata/, written by `make release`);
// each bad case changes one thing. Run through `kyverno apply` (messages) and `kyverno test`.
func TestImageEvidence(t *testing.T) {
	t.Parallel()
	e := newEvidenceRun(t)
	shared := e.images([]imageSpec{{"migrate", released}, {"log-shipper", released}})
	migrate, sidecar := shared[0], shared[1]
	prov := func(mutate func(map[string]any)) attestation { return e.provenance(mutate) }
	const (
		noSignature   = "signatures: image(s) without a valid cosign signature from the trusted signer"
		noSBOM        = "sbom: image(s) without a CycloneDX SBOM attestation from the trusted signer"
		noProvenance  = "provenance: image(s) without a SLSA v1 provenance attestation from the trusted signer"
		wrongBuilder  = "provenance: image(s) built by a builder the platform does not trust"
		wrongSource   = "provenance: image(s) not built from https://github.com/platform-template/template-api at a commit"
		foreignSource = "git+https://github.com/someone-else/template-api@refs/heads/main"
	)
	cases := []struct {
		name string
		ev   evidence
		want string // "" = admitted
		// where the image goes: "" the app container, "init" the init container, "second" the sidecar
		slot string
	}{
		{"released", released, "", ""},
		{"released-init", released, "", "init"},
		{"signed-only", evidence{sign: true}, noSBOM, ""},
		{"no-sbom", evidence{sign: true, attest: []attestation{goodProvenance}}, noSBOM, ""},
		{"no-provenance", evidence{sign: true, attest: []attestation{sbomCycloneDX}}, noProvenance, "init"},
		{"sbom-is-spdx", evidence{sign: true, attest: []attestation{sbomSPDX, goodProvenance}}, noSBOM, ""},
		{"provenance-is-slsa-0.2", evidence{sign: true, attest: []attestation{sbomCycloneDX, provenanceV02}}, noProvenance, "second"},
		{"attested-by-other-key", evidence{sign: true, attest: []attestation{sbomCycloneDX.by(e.other), goodProvenance.by(e.other)}}, noSBOM, ""},
		{"provenance-by-other-key", evidence{sign: true, attest: []attestation{sbomCycloneDX, goodProvenance.by(e.other)}}, noProvenance, ""},
		{"evidence-of-another-image", evidence{sign: true, copyFrom: migrate}, noSBOM, ""},
		{"other-builder", evidence{sign: true, attest: []attestation{sbomCycloneDX, prov(setBuilder("https://github.com/someone-else/builder/.github/workflows/build.yaml@refs/heads/main"))}}, wrongBuilder, ""},
		{"builder-extended", evidence{sign: true, attest: []attestation{sbomCycloneDX, prov(setBuilder(localBuilder + ".evil"))}}, wrongBuilder, "second"},
		{"builder-case-changed", evidence{sign: true, attest: []attestation{sbomCycloneDX, prov(setBuilder(strings.Replace(localBuilder, "github.com", "GitHub.com", 1)))}}, wrongBuilder, ""},
		{"workflow-as-builder", evidence{sign: true, attest: []attestation{sbomCycloneDX, prov(setBuilder("https://github.com/platform-template/template-api/.github/workflows/build-scan-sign.yaml@refs/heads/main"))}}, wrongBuilder, ""},
		{"builder-missing", evidence{sign: true, attest: []attestation{sbomCycloneDX, prov(func(p map[string]any) { delete(p, "runDetails") })}}, wrongBuilder, ""},
		{"other-repository", evidence{sign: true, attest: []attestation{sbomCycloneDX, prov(setSource(foreignSource, true))}}, wrongSource, ""},
		{"repository-name-extended", evidence{sign: true, attest: []attestation{sbomCycloneDX, prov(setSource("git+https://github.com/platform-template/template-api-fork@refs/heads/main", true))}}, wrongSource, "init"},
		{"source-without-commit", evidence{sign: true, attest: []attestation{sbomCycloneDX, prov(setSource("git+https://github.com/platform-template/template-api@refs/heads/main", false))}}, wrongSource, ""},
		{"second-source-elsewhere", evidence{sign: true, attest: []attestation{sbomCycloneDX, prov(addSource(foreignSource))}}, wrongSource, ""},
		{"no-source", evidence{sign: true, attest: []attestation{sbomCycloneDX, prov(func(p map[string]any) {
			bd := p["buildDefinition"].(map[string]any)
			bd["resolvedDependencies"] = bd["resolvedDependencies"].([]any)[1:]
		})}}, wrongSource, ""},
		{"unsigned-but-attested", evidence{attest: []attestation{sbomCycloneDX, goodProvenance}}, noSignature, ""},
	}
	// Every case's image, and a released app image for the cases that put theirs elsewhere.
	var specs []imageSpec
	imageOf, appOf := map[string]int{}, map[string]int{}
	for _, c := range cases {
		imageOf[c.name] = len(specs)
		specs = append(specs, imageSpec{c.name, c.ev})
		if c.slot != "" {
			appOf[c.name] = len(specs)
			specs = append(specs, imageSpec{c.name + "-app", released})
		}
	}
	refs := e.images(specs)
	var sig []sigCase
	for _, c := range cases {
		img := refs[imageOf[c.name]]
		app, init, second := img, migrate, sidecar
		switch c.slot {
		case "init":
			app, init = refs[appOf[c.name]], img
		case "second":
			app, second = refs[appOf[c.name]], img
		}
		want := ""
		if c.want != "" {
			want = c.want + ": " + img
		}
		sig = append(sig, sigCase{obj: podWith(c.name, app, init, second), want: want})
	}
	e.check(e.ctx, sig)
}

const localBuilder = "https://github.com/platform-template/template-api/blob/main/mk/release.mk"

func setBuilder(id string) func(map[string]any) {
	return func(p map[string]any) {
		p["runDetails"].(map[string]any)["builder"].(map[string]any)["id"] = id
	}
}

// setSource replaces the source dependency's URI (and drops its commit when withCommit is false).
func setSource(uri string, withCommit bool) func(map[string]any) {
	return func(p map[string]any) {
		src := p["buildDefinition"].(map[string]any)["resolvedDependencies"].([]any)[0].(map[string]any)
		src["uri"] = uri
		if !withCommit {
			src["digest"] = map[string]any{"sha1": "0123456789abcdef0123456789abcdef01234567"}
		}
	}
}

func addSource(uri string) func(map[string]any) {
	return func(p map[string]any) {
		bd := p["buildDefinition"].(map[string]any)
		bd["resolvedDependencies"] = append(bd["resolvedDependencies"].([]any), map[string]any{
			"uri": uri, "digest": map[string]any{"gitCommit": "89abcdef0123456789abcdef0123456789abcdef"}})
	}
}

// attestation is one `cosign attest`: the predicate type (cosign's --type), the file, and the key
// (nil: the run's trusted key).
type attestation struct {
	typ, file string
	key       *cosign.KeyPair
}

func (a attestation) by(k cosign.KeyPair) attestation { a.key = &k; return a }

// evidence is what an image gets: a signature by the trusted key, attestations, or the
// attestations of another image copied onto it (the .att artifact, as an attacker with push
// access could).
type evidence struct {
	sign     bool
	signer   *cosign.KeyPair // sign with this key instead of the trusted one
	attest   []attestation
	copyFrom string
}

// Predicate files, filled in by newEvidenceRun (placeholders here: the file names in the run's folder).
var (
	sbomCycloneDX  = attestation{typ: "cyclonedx", file: "sbom.cdx.json"}
	sbomSPDX       = attestation{typ: "spdxjson", file: "sbom.spdx.json"}
	goodProvenance = attestation{typ: "slsaprovenance1", file: "provenance.json"}
	provenanceV02  = attestation{typ: "slsaprovenance02", file: "provenance-v02.json"}
	released       = evidence{sign: true, attest: []attestation{sbomCycloneDX, goodProvenance}}
)

// evidenceRun is one registry, two keys made by cosign (the trusted one and another), the
// keyed policy, and the predicate files.
type evidenceRun struct {
	t      *testing.T
	ctx    context.Context
	kv     kyverno.CLI
	cs     cosign.CLI
	reg    *oci.Registry
	key    cosign.KeyPair
	other  cosign.KeyPair
	dir    string
	policy string
	n      int
}

func newEvidenceRun(t *testing.T) *evidenceRun {
	t.Helper()
	kv := cli(t)
	cs, err := cosign.Find(repo.Tool(t, "COSIGN_BIN", "cosign", "test-policies"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	reg := ocitest.Serve(t)
	dir := t.TempDir()
	e := &evidenceRun{t: t, ctx: ctx, kv: kv, cs: cs, reg: reg, dir: dir}
	if e.key, err = cs.GenerateKeyPair(ctx, dir, "trusted"); err != nil {
		t.Fatal(err)
	}
	if e.other, err = cs.GenerateKeyPair(ctx, dir, "other"); err != nil {
		t.Fatal(err)
	}
	pub, err := e.key.PublicPEM()
	if err != nil {
		t.Fatal(err)
	}
	e.policy = renderKeyedPolicy(t, dir, pub)
	for _, f := range []string{"sbom.cdx.json", "sbom.spdx.json", "provenance.json", "provenance-v02.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// provenance writes the real release's provenance changed by mutate, as an attestation.
func (e *evidenceRun) provenance(mutate func(map[string]any)) attestation {
	e.t.Helper()
	var p map[string]any
	b, err := os.ReadFile(filepath.Join("testdata", "provenance.json"))
	if err != nil {
		e.t.Fatal(err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		e.t.Fatal(err)
	}
	mutate(p)
	e.n++
	f := filepath.Join(e.dir, fmt.Sprintf("provenance-%d.json", e.n))
	out, err := json.Marshal(p)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(f, out, 0o644); err != nil {
		e.t.Fatal(err)
	}
	return attestation{typ: "slsaprovenance1", file: f}
}

// imageSpec is one image to push (a new random image named repo) and the evidence to give it.
type imageSpec struct {
	repo string
	ev   evidence
}

// images makes several images at once (each a handful of cosign runs, which spend most of their
// time decrypting the key), and returns their digest references in order.
func (e *evidenceRun) images(specs []imageSpec) []string {
	e.t.Helper()
	refs := make([]string, len(specs))
	errs := make([]error, len(specs))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, s := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			refs[i], errs[i] = e.makeImage(s.repo, s.ev)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		e.t.Fatal(err)
	}
	return refs
}

func (e *evidenceRun) makeImage(repo string, ev evidence) (string, error) {
	ref, err := e.reg.PushRandom(e.ctx, repo, "1.0.0")
	if err != nil {
		return "", err
	}
	if ev.sign || ev.signer != nil {
		k := e.key
		if ev.signer != nil {
			k = *ev.signer
		}
		if err := e.cs.Sign(e.ctx, k, ref); err != nil {
			return "", err
		}
	}
	for _, a := range ev.attest {
		k := e.key
		if a.key != nil {
			k = *a.key
		}
		file := a.file
		if !filepath.IsAbs(file) {
			file = filepath.Join(e.dir, file)
		}
		if err := e.cs.Attest(e.ctx, k, ref, a.typ, file); err != nil {
			return "", err
		}
	}
	if ev.copyFrom != "" {
		if err := e.copyAttestations(ev.copyFrom, ref); err != nil {
			return "", err
		}
	}
	return ref, nil
}

// copyAttestations puts the attestations of image from onto image to, where cosign looks for
// them: cosign v3 keeps each signature and attestation as an OCI referrer of the image, listed
// (on a registry without the referrers API) in an index tagged sha256-<hex>. The manifests of
// from's referrers are copied into to's repository and added to to's index, as an attacker with
// push access could; their statements still name from's digest.
func (e *evidenceRun) copyAttestations(from, to string) error {
	fromRef, err := name.NewDigest(from)
	if err != nil {
		return err
	}
	toRef, err := name.NewDigest(to)
	if err != nil {
		return err
	}
	referrers := func(d name.Digest) name.Tag {
		return d.Context().Tag(strings.Replace(d.DigestStr(), ":", "-", 1))
	}
	opt := remote.WithContext(e.ctx)
	fromIdx, err := remote.Index(referrers(fromRef), opt)
	if err != nil {
		return fmt.Errorf("read the referrers of %s: %w", from, err)
	}
	toIdx, err := remote.Index(referrers(toRef), opt)
	if err != nil {
		return fmt.Errorf("read the referrers of %s: %w", to, err)
	}
	m, err := fromIdx.IndexManifest()
	if err != nil {
		return err
	}
	var add []mutate.IndexAddendum
	for _, desc := range m.Manifests {
		img, err := remote.Image(fromRef.Context().Digest(desc.Digest.String()), opt)
		if err != nil {
			return err
		}
		if err := remote.Write(toRef.Context().Digest(desc.Digest.String()), img, opt); err != nil {
			return err
		}
		add = append(add, mutate.IndexAddendum{Add: img, Descriptor: desc})
	}
	if err := remote.WriteIndex(referrers(toRef), mutate.AppendManifests(toIdx, add...), opt); err != nil {
		return fmt.Errorf("add %s's attestations to %s: %w", from, to, err)
	}
	return nil
}

// check runs the cases through `kyverno apply`, asserting each decision and message (and the
// engine's logged cause where given), then through `kyverno test`.
func (e *evidenceRun) check(ctx context.Context, cases []sigCase) {
	t := e.t
	t.Helper()
	var objects []render.Object
	for _, c := range cases {
		objects = append(objects, c.obj)
	}
	resources := filepath.Join(e.dir, "resources.yaml")
	mustWrite(t, resources, objects)
	report, out, err := e.kv.Apply(ctx, kyverno.ApplyOptions{Policies: []string{e.policy}, Resources: []string{resources}, Verbosity: 1})
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, c := range cases {
		s := kyverno.Subject{Kind: c.obj.Kind(), Namespace: c.obj.Namespace(), Name: c.obj.Name()}
		results := report.For(s, signaturePolicy)
		if len(results) == 0 {
			t.Errorf("%s: no result from %s\n%s", s, signaturePolicy, out)
			continue
		}
		var msgs []string
		refused := false
		for _, r := range results {
			msgs = append(msgs, r.Result+": "+r.Message)
			refused = refused || r.Result == "fail" || r.Result == "error"
		}
		got := strings.Join(msgs, "; ")
		switch {
		case c.want == "" && refused:
			t.Errorf("%s: refused, want admitted: %s", s, got)
		case c.want != "" && !refused:
			t.Errorf("%s: admitted, want refused naming %q: %s", s, c.want, got)
		case c.want != "" && !strings.Contains(got, c.want):
			t.Errorf("%s: refused with %q, want the message to name %q", s, got, c.want)
		default:
			t.Logf("%s: %s", s, got)
		}
		if c.cause != "" && !engineLogged(out, c.want, c.cause) {
			t.Errorf("%s: the engine did not log %q for %s:\n%s", s, c.cause, c.want, out)
		}
	}
	writeSignatureTest(t, e.dir, cases2results(cases))
	testOut, ok, err := e.kv.Test(ctx, e.dir)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Errorf("kyverno test on these cases failed:\n%s", testOut)
	}
}
