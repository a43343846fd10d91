package harness

import (
	"context"
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/platform-template/template-api/test/e2e/internal/oci"
	"github.com/platform-template/template-api/test/e2e/internal/pki"
)

// prepareImages pushes the service image and its variants to the cluster's registry and signs
// them: the good one with the run's key (the key the policies trust), one with another key,
// one not at all. The variants differ by a label, so each has its own digest. It returns the
// run's public key (PEM), which the policies are then told to trust.
func (e *Env) prepareImages(ctx context.Context) (publicKeyPEM []byte, err error) {
	base, err := e.serviceImage(ctx)
	if err != nil {
		return nil, err
	}
	signer, err := oci.NewSigner()
	if err != nil {
		return nil, err
	}
	other, err := oci.NewSigner()
	if err != nil {
		return nil, err
	}
	pub, err := pki.PublicKeyPEM(&signer.Key.PublicKey)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(e.Config.RunDir+"/cosign.pub", pub, 0o644); err != nil {
		return nil, fmt.Errorf("write public key: %w", err)
	}
	r := e.Registry.Remote
	repo := e.Registry.Host + "/template-api"
	signed, err := oci.Push(ctx, r, repo+":e2e", base)
	if err != nil {
		return nil, err
	}
	if err := signer.Sign(ctx, r, signed); err != nil {
		return nil, err
	}
	// The same signed image under :latest (the tag policy must refuse the tag, not the image).
	if _, err := oci.Push(ctx, r, repo+":latest", base); err != nil {
		return nil, err
	}
	unsigned, err := push(ctx, r, repo+":unsigned", base, "unsigned")
	if err != nil {
		return nil, err
	}
	wrongDigest, err := push(ctx, r, repo+":wrong-key", base, "signed-with-another-key")
	if err != nil {
		return nil, err
	}
	if err := other.Sign(ctx, r, wrongDigest); err != nil {
		return nil, err
	}
	// The checks the policy will make, made here first: a failure now is the harness's, not
	// a guardrail's.
	if err := oci.Verify(ctx, r, signed, &signer.Key.PublicKey); err != nil {
		return nil, fmt.Errorf("the run's own signature does not verify: %w", err)
	}
	if err := oci.Verify(ctx, r, wrongDigest, &signer.Key.PublicKey); err == nil {
		return nil, fmt.Errorf("the image signed with another key verifies with the run's key")
	}
	e.signer = signer
	e.Images.Signed = signed.String()
	e.Images.Latest = repo + ":latest"
	e.Images.Unsigned = unsigned.String()
	e.Images.WrongKey = wrongDigest.String()
	if e.Registry.Alias != "" {
		e.Images.Untrusted = e.Registry.Alias + "/template-api@" + signed.DigestStr()
	}
	e.Config.Log("images: signed %s", e.Images.Signed)
	return pub, nil
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
		if err := e.signer.Sign(ctx, e.Registry.Remote, d); err != nil {
			e.probeErr = err
			return
		}
		e.probeImage = d.String()
	})
	return e.probeImage, e.probeErr
}
