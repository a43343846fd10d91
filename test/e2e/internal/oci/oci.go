// Package oci is the container side of the end-to-end tests without a container engine: an OCI
// registry on loopback, an image assembled from a static binary the way the Dockerfile lays it
// out, and cosign-compatible signatures made with a key pair created for the run.
package oci

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Registry is an OCI distribution registry served over plain HTTP on loopback addresses.
type Registry struct {
	Addr string // the first address, host:port, e.g. 127.0.0.1:5001
	srv  *http.Server
}

// Serve starts one in-memory registry (it lives as long as this process) answering on every
// given address; all addresses share the same content.
func Serve(addrs ...string) (*Registry, error) {
	srv := &http.Server{
		Handler:           registry.New(registry.Logger(log.New(io.Discard, "", 0))),
		ReadHeaderTimeout: 10 * time.Second,
	}
	var lns []net.Listener
	for _, addr := range addrs {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range lns {
				_ = l.Close() // giving up on all of them; the listen error is the one to report
			}
			return nil, fmt.Errorf("listen for the registry on %s: %w", addr, err)
		}
		lns = append(lns, ln)
	}
	for _, ln := range lns {
		go func() { _ = srv.Serve(ln) }()
	}
	return &Registry{Addr: lns[0].Addr().String(), srv: srv}, nil
}

// Close stops the registry.
func (r *Registry) Close(ctx context.Context) error { return r.srv.Shutdown(ctx) }

// Ping checks that a registry answers the distribution API's base endpoint.
func Ping(ctx context.Context, addr string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v2/", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close() // only the status matters
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("registry %s answered %s", addr, resp.Status)
	}
	return nil
}

// ImageSpec is how the Dockerfile's runtime stage lays out the service image.
type ImageSpec struct {
	Binary string            // static binary copied to /api
	Labels map[string]string // image labels (a different label makes a different digest)
}

// Build assembles a linux/amd64 image: one layer with the binary at /api, user 65532:65532,
// entrypoint ["/api"], as the Dockerfile's distroless nonroot stage does.
func Build(spec ImageSpec) (v1.Image, error) {
	bin, err := os.ReadFile(spec.Binary)
	if err != nil {
		return nil, fmt.Errorf("read binary: %w", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "api", Mode: 0o755, Size: int64(len(bin)),
		Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
		return nil, fmt.Errorf("tar header: %w", err)
	}
	if _, err := tw.Write(bin); err != nil {
		return nil, fmt.Errorf("tar body: %w", err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("close tar: %w", err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(buf.Bytes())), nil
	})
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, fmt.Errorf("append layer: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	cfg.Config.User = "65532:65532"
	cfg.Config.Entrypoint = []string{"/api"}
	cfg.Config.WorkingDir = "/"
	cfg.Config.Labels = spec.Labels
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("set config: %w", err)
	}
	return img, nil
}

// ExtractFile writes the regular file at path (as in the image, without a leading slash, e.g.
// "api") of img's filesystem to dst, executable.
func ExtractFile(img v1.Image, path, dst string) error {
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }() // read-only stream of the image's layers
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("/%s is not in the image", path)
		}
		if err != nil {
			return fmt.Errorf("read the image's files: %w", err)
		}
		if strings.TrimPrefix(hdr.Name, "/") != path && strings.TrimPrefix(hdr.Name, "./") != path {
			continue
		}
		if hdr.Typeflag != tar.TypeReg {
			return fmt.Errorf("/%s in the image is not a regular file", path)
		}
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o700) //nolint:gosec // an executable for the SBOM tool to read
		if err != nil {
			return fmt.Errorf("extract /%s: %w", path, err)
		}
		_, err = io.Copy(f, tr) //nolint:gosec // the release's own image, bounded by its layer
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("extract /%s: %w", path, err)
		}
		return nil
	}
}

// Push writes img to ref (a tag) and returns the pinned reference repo@sha256:....
func Push(ctx context.Context, ref string, img v1.Image) (name.Digest, error) {
	tag, err := name.NewTag(ref)
	if err != nil {
		return name.Digest{}, fmt.Errorf("parse %q: %w", ref, err)
	}
	if err := remote.Write(tag, img, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return name.Digest{}, fmt.Errorf("push %s: %w", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		return name.Digest{}, fmt.Errorf("digest: %w", err)
	}
	return tag.Context().Digest(d.String()), nil
}

// Signer makes cosign signatures with an ECDSA P-256 key (cosign's key-pair mode).
type Signer struct {
	Key *ecdsa.PrivateKey
}

// NewSigner generates a fresh key for the run.
func NewSigner() (*Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	return &Signer{Key: key}, nil
}

// Cosign's simple-signing layout: the payload, its media type, and the annotation carrying the
// base64 ASN.1 ECDSA signature over the payload's SHA-256, in an image tagged sha256-<hex>.sig
// in the same repository as the signed image.
const (
	simpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	signatureAnnotation    = "dev.cosignproject.cosign/signature"
)

type simpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]any `json:"optional"`
}

// Sign attaches a signature for the image at digest, as `cosign sign --key` would (without
// uploading to a transparency log; the policy's attestor sets rekor.ignoreTlog).
func (s *Signer) Sign(ctx context.Context, digest name.Digest) error {
	var p simpleSigning
	p.Critical.Identity.DockerReference = digest.Context().Name()
	p.Critical.Image.DockerManifestDigest = digest.DigestStr()
	p.Critical.Type = "cosign container image signature"
	payload, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("marshal payload: %w", err)
	}
	sum := sha256.Sum256(payload)
	sig, err := ecdsa.SignASN1(rand.Reader, s.Key, sum[:])
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	layer := static.NewLayer(payload, types.MediaType(simpleSigningMediaType))
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:       layer,
		Annotations: map[string]string{signatureAnnotation: base64.StdEncoding.EncodeToString(sig)},
	})
	if err != nil {
		return fmt.Errorf("signature image: %w", err)
	}
	h, err := v1.NewHash(digest.DigestStr())
	if err != nil {
		return fmt.Errorf("parse digest: %w", err)
	}
	sigTag := digest.Context().Tag(fmt.Sprintf("%s-%s.sig", h.Algorithm, h.Hex))
	if err := remote.Write(sigTag, img, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return fmt.Errorf("push signature %s: %w", sigTag, err)
	}
	return nil
}

// Verify checks a signature the way cosign's key-pair verification does: the .sig image exists,
// its payload names this digest, and the signature verifies with pub. The tests use it to show
// that the signing itself is right before asking Kyverno.
func Verify(ctx context.Context, digest name.Digest, pub *ecdsa.PublicKey) error {
	h, err := v1.NewHash(digest.DigestStr())
	if err != nil {
		return fmt.Errorf("parse digest: %w", err)
	}
	sigTag := digest.Context().Tag(fmt.Sprintf("%s-%s.sig", h.Algorithm, h.Hex))
	img, err := remote.Image(sigTag, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain))
	if err != nil {
		return fmt.Errorf("no signatures found for %s: %w", digest, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return fmt.Errorf("signature manifest: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("signature layers: %w", err)
	}
	for i, desc := range m.Layers {
		rc, err := layers[i].Uncompressed()
		if err != nil {
			return fmt.Errorf("read payload: %w", err)
		}
		payload, err := io.ReadAll(rc)
		_ = rc.Close() // read whole; the read error is the one that matters
		if err != nil {
			return fmt.Errorf("read payload: %w", err)
		}
		var p simpleSigning
		if err := json.Unmarshal(payload, &p); err != nil {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(desc.Annotations[signatureAnnotation])
		if err != nil {
			continue
		}
		sum := sha256.Sum256(payload)
		if p.Critical.Image.DockerManifestDigest == digest.DigestStr() && ecdsa.VerifyASN1(pub, sum[:], sig) {
			return nil
		}
	}
	return errors.New("no signature of " + digest.String() + " verifies with the given key")
}
