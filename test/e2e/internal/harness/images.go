package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/platform-template/template-api/test/e2e/internal/release"
	"github.com/platform-template/template-api/test/e2e/internal/sbom"
	"github.com/platform-template/template-api/test/internal/cosign"
	"github.com/platform-template/template-api/test/internal/oci"
)

// prepareImages pushes the service image and its variants to the cluster's registry and gives
// each its evidence with cosign (package release's Attester): the good one all that a release
// attaches (signature, SBOM, provenance) with the run's key, the key the policies trust; the
// others a signature from another key, none at all, or evidence that is missing or says the
// wrong thing. The variants differ by a label, so each has its own digest. It returns the run's
// public key (PEM), which the policies are then told to trust.
func (e *Env) prepareImages(ctx context.Context) (publicKeyPEM []byte, err error) {
	base, err := e.serviceImage(ctx)
	if err != nil {
		return nil, err
	}
	a, err := e.newAttester(ctx)
	if err != nil {
		return nil, err
	}
	pub, err := a.Key.PublicPEM()
	if err != nil {
		return nil, err
	}
	r := e.Registry.Remote
	repo := e.Registry.Host + "/template-api"
	signed, err := e.goodImage(ctx, a, repo, base)
	if err != nil {
		return nil, err
	}
	// The same signed image under :latest (the tag policy must refuse the tag, not the image).
	if _, err := oci.Push(ctx, r, repo+":latest", base); err != nil {
		return nil, err
	}
	variants := []struct {
		tag      string
		evidence release.Evidence
		into     *string
	}{
		{"unsigned", release.Unsigned, &e.Images.Unsigned},
		{"wrong-key", release.SignedByOtherKey, &e.Images.WrongKey},
		{"no-sbom", release.NoSBOM, &e.Images.NoSBOM},
		{"other-builder", release.OtherBuilder, &e.Images.OtherBuilder},
		{"other-repository", release.OtherRepository, &e.Images.OtherRepository},
		{"attested-by-other-key", release.AttestedByOtherKey, &e.Images.AttestedByOtherKey},
	}
	for _, v := range variants {
		d, err := push(ctx, r, repo+":"+v.tag, base, v.evidence.String())
		if err != nil {
			return nil, err
		}
		if err := e.attach(ctx, a, d, v.evidence); err != nil {
			return nil, fmt.Errorf("evidence %s: %w", v.evidence, err)
		}
		*v.into = d.String()
	}
	// The checks the policy will make, made here first with cosign: a failure now is the
	// harness's, not a guardrail's.
	signedLocal, err := e.Registry.LocalRef(signed.String())
	if err != nil {
		return nil, err
	}
	wrongKeyLocal, err := e.Registry.LocalRef(e.Images.WrongKey)
	if err != nil {
		return nil, err
	}
	if err := a.Cosign.Verify(ctx, a.Key.PublicKey, signedLocal); err != nil {
		return nil, fmt.Errorf("the run's own signature does not verify: %w", err)
	}
	if err := a.Cosign.Verify(ctx, a.Key.PublicKey, wrongKeyLocal); err == nil {
		return nil, fmt.Errorf("the image signed with another key verifies with the run's key")
	}
	e.attester = a
	e.Images.Signed = signed.String()
	e.Images.Latest = repo + ":latest"
	if e.Registry.Alias != "" {
		e.Images.Untrusted = e.Registry.Alias + "/template-api@" + signed.DigestStr()
	}
	e.Config.Log("images: signed and attested %s", e.Images.Signed)
	return []byte(pub), nil
}

// goodImage is the app's image: the one `make release` produced when Config.Release names it
// (loaded with its signature and attestations into the cluster's registry, digest unchanged),
// else the service image, pushed and given a release's evidence here.
func (e *Env) goodImage(ctx context.Context, a *release.Attester, repo string, base v1.Image) (name.Digest, error) {
	if e.Config.Release != "" {
		rel, err := release.Load(e.Config.Release)
		if err != nil {
			return name.Digest{}, err
		}
		local, err := e.Registry.LocalRef(repo)
		if err != nil {
			return name.Digest{}, err
		}
		if err := a.Cosign.Load(ctx, rel.Layout, local); err != nil {
			return name.Digest{}, fmt.Errorf("load the release into the registry: %w", err)
		}
		e.Config.Log("images: the release of %s (make release, %s)", rel.Source.Commit, e.Config.Release)
		return name.NewDigest(repo + "@" + rel.Digest)
	}
	signed, err := oci.Push(ctx, e.Registry.Remote, repo+":e2e", base)
	if err != nil {
		return name.Digest{}, err
	}
	return signed, e.attach(ctx, a, signed, release.Released)
}

// attach gives the image at d (a reference under the cluster's registry) the evidence ev with
// the cosign CLI, which dials the registry itself: it is given the same repository and digest
// at the registry's local address (the port-forward's listener). Signatures and attestations
// are found by digest, and verification binds the digest, not the registry's name, so what is
// attached there is what Kyverno finds at the name the cluster pulls by.
func (e *Env) attach(ctx context.Context, a *release.Attester, d name.Digest, ev release.Evidence) error {
	local, err := e.Registry.LocalRef(d.String())
	if err != nil {
		return err
	}
	return a.Attach(ctx, local, ev)
}

// newAttester makes the run's key pairs with cosign (or takes the release's key), and the SBOM
// every image is attested with: the service binary's, by cyclonedx-gomod (both built from
// tools/kyverno into ToolsBin).
func (e *Env) newAttester(ctx context.Context) (*release.Attester, error) {
	cs, err := cosign.Find(filepath.Join(e.Config.ToolsBin, "cosign"))
	if err != nil {
		return nil, err
	}
	gen, err := sbom.Find(filepath.Join(e.Config.ToolsBin, "cyclonedx-gomod"))
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(e.Config.RunDir, "evidence")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("evidence folder: %w", err)
	}
	doc, err := gen.Binary(ctx, e.Config.ServiceBinary, "e2e")
	if err != nil {
		return nil, err
	}
	sbomFile := filepath.Join(dir, "sbom.cdx.json")
	if err := os.WriteFile(sbomFile, doc, 0o600); err != nil {
		return nil, fmt.Errorf("write the SBOM: %w", err)
	}
	commit, err := exec.CommandContext(ctx, "git", "-C", e.Config.Root, "rev-parse", "HEAD").Output() // git on the repository under test
	if err != nil {
		return nil, fmt.Errorf("the provenance names the source commit, and %s is not a git checkout: %w", e.Config.Root, err)
	}
	if e.Config.Release != "" {
		key, err := cosign.LoadKeyPair(filepath.Join(e.Config.Release, release.KeyName+".key"))
		if err != nil {
			return nil, err
		}
		return release.NewAttesterWithKey(ctx, cs, dir, key, sbomFile, strings.TrimSpace(string(commit)))
	}
	return release.NewAttester(ctx, cs, dir, sbomFile, strings.TrimSpace(string(commit)))
}

// push pushes a labelled variant of img and returns its reference by digest.
func push(ctx context.Context, r oci.Remote, ref string, img v1.Image, variant string) (name.Digest, error) {
	v, err := labelled(img, variant)
	if err != nil {
		return name.Digest{}, err
	}
	return oci.Push(ctx, r, ref, v)
}

func labelled(img v1.Image, variant string) (v1.Image, error) {
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg = cfg.DeepCopy()
	if cfg.Config.Labels == nil {
		cfg.Config.Labels = map[string]string{}
	}
	cfg.Config.Labels["io.template-api.e2e.variant"] = variant
	return mutate.ConfigFile(img, cfg)
}

// serviceImage is the image under test: in kind, the one built from the Dockerfile; elsewhere,
// the static service binary laid out as the Dockerfile does.
func (e *Env) serviceImage(ctx context.Context) (v1.Image, error) {
	if img, ok, err := e.dockerImage(ctx); ok || err != nil {
		return img, err
	}
	if _, err := os.Stat(e.Config.ServiceBinary); err != nil {
		return nil, fmt.Errorf("the service binary %s is missing (make build): %w", e.Config.ServiceBinary, err)
	}
	return oci.Build(oci.ImageSpec{Binary: e.Config.ServiceBinary,
		Labels: map[string]string{"org.opencontainers.image.title": "template-api"}})
}

// ProbeImage is test/e2e/cmd/probe laid out like the service image, pushed and signed with the
// run's key (once per run): the in-cluster client and network probe of the tests.
func (e *Env) ProbeImage(ctx context.Context) (string, error) {
	e.probeOnce.Do(func() {
		img, err := oci.Build(oci.ImageSpec{Binary: e.bins.Probe, Labels: map[string]string{"org.opencontainers.image.title": "probe"}})
		if err != nil {
			e.probeErr = err
			return
		}
		d, err := oci.Push(ctx, e.Registry.Remote, e.Registry.Host+"/probe:e2e", img)
		if err != nil {
			e.probeErr = err
			return
		}
		if err := e.attach(ctx, e.attester, d, release.Released); err != nil {
			e.probeErr = err
			return
		}
		e.probeImage = d.String()
	})
	return e.probeImage, e.probeErr
}
