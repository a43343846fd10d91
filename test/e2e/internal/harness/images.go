package harness

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/platform-template/template-api/test/e2e/internal/cluster"
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
	repo := e.Cluster.Registry() + "/template-api"
	signed, err := oci.Push(ctx, repo+":e2e", base)
	if err != nil {
		return nil, err
	}
	if err := signer.Sign(ctx, signed); err != nil {
		return nil, err
	}
	// The same signed image under :latest (the tag policy must refuse the tag, not the image).
	if _, err := oci.Push(ctx, repo+":latest", base); err != nil {
		return nil, err
	}
	unsigned, err := push(ctx, repo+":unsigned", base, "unsigned")
	if err != nil {
		return nil, err
	}
	wrongDigest, err := push(ctx, repo+":wrong-key", base, "signed-with-another-key")
	if err != nil {
		return nil, err
	}
	if err := other.Sign(ctx, wrongDigest); err != nil {
		return nil, err
	}
	// The checks the policy will make, made here first: a failure now is the harness's, not
	// a guardrail's.
	if err := oci.Verify(ctx, signed, &signer.Key.PublicKey); err != nil {
		return nil, fmt.Errorf("the run's own signature does not verify: %w", err)
	}
	if err := oci.Verify(ctx, wrongDigest, &signer.Key.PublicKey); err == nil {
		return nil, fmt.Errorf("the image signed with another key verifies with the run's key")
	}
	e.signer = signer
	e.Images.Signed = signed.String()
	e.Images.Latest = repo + ":latest"
	e.Images.Unsigned = unsigned.String()
	e.Images.WrongKey = wrongDigest.String()
	e.Images.Untrusted = e.untrustedAlias() + "/template-api@" + signed.DigestStr()
	e.Config.Log("images: signed %s", e.Images.Signed)
	return pub, nil
}

// push pushes a labelled variant of img and returns its reference by digest.
func push(ctx context.Context, ref string, img v1.Image, variant string) (name.Digest, error) {
	v, err := labelled(img, variant)
	if err != nil {
		return name.Digest{}, err
	}
	return oci.Push(ctx, ref, v)
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

// untrustedAlias is the same registry reached by another name that the platform's registry
// list does not name: a correctly signed image must still be refused from there. Locally that
// is the IPv6 loopback; in kind, the registry container's address on the kind network.
func (e *Env) untrustedAlias() string {
	if k, ok := e.Cluster.(*cluster.Kind); ok {
		return k.RegistryInternal()
	}
	host, port, err := net.SplitHostPort(e.Cluster.Registry())
	if err != nil {
		return e.Cluster.Registry()
	}
	switch host {
	case "127.0.0.1", "localhost":
		return "[::1]:" + port
	default:
		return e.Cluster.Registry()
	}
}

// serviceImage is the image under test: in kind, the one built from the Dockerfile; on the
// local control plane, the static service binary laid out as the Dockerfile does.
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

// ProbeImage builds test/e2e/cmd/tcpprobe as a static binary, lays it out like the service
// image, and pushes and signs it with the run's key (kind-only network tests).
func (e *Env) ProbeImage(ctx context.Context) (string, error) {
	bin := filepath.Join(e.Config.RunDir, "tcpprobe")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/tcpprobe")
	cmd.Dir = filepath.Join(e.Config.Root, "test", "e2e")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build tcpprobe: %w\n%s", err, out)
	}
	img, err := oci.Build(oci.ImageSpec{Binary: bin, Labels: map[string]string{"org.opencontainers.image.title": "tcpprobe"}})
	if err != nil {
		return "", err
	}
	d, err := oci.Push(ctx, e.Cluster.Registry()+"/tcpprobe:e2e", img)
	if err != nil {
		return "", err
	}
	if err := e.signer.Sign(ctx, d); err != nil {
		return "", err
	}
	return d.String(), nil
}
