// Package registry runs an OCI registry on loopback for tests and signs images in it the way
// cosign does (a simple-signing payload pushed as the sha256-<digest>.sig tag, with the
// signature in the dev.cosignproject.cosign/signature annotation), so that the Kyverno engine
// can verify signatures offline with a key made for the run.
package registry

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Cosign's media type and annotation for a simple-signing signature layer.
const (
	simpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	signatureAnnotation    = "dev.cosignproject.cosign/signature"
)

// Registry is an OCI registry listening on 127.0.0.1.
type Registry struct {
	// Host is "127.0.0.1:<port>".
	Host   string
	server *http.Server
	ln     net.Listener
}

// Start listens on a free loopback port and serves until ctx is done or Close is called.
func Start(ctx context.Context) (*Registry, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	srv := &http.Server{
		Handler:           ggcrregistry.New(ggcrregistry.Logger(log.New(discard{}, "", 0))),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return &Registry{Host: ln.Addr().String(), server: srv, ln: ln}, nil
}

// Close stops the registry.
func (r *Registry) Close() error { return r.server.Close() }

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// PushRandom pushes a small random image as <host>/<repo>:<tag> and returns its digest
// reference (<host>/<repo>@sha256:...).
func (r *Registry) PushRandom(ctx context.Context, repo, tag string) (string, error) {
	img, err := random.Image(256, 1)
	if err != nil {
		return "", fmt.Errorf("make random image: %w", err)
	}
	ref, err := name.ParseReference(r.Host + "/" + repo + ":" + tag)
	if err != nil {
		return "", fmt.Errorf("parse reference: %w", err)
	}
	if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
		return "", fmt.Errorf("push %s: %w", ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return "", fmt.Errorf("digest of %s: %w", ref, err)
	}
	return r.Host + "/" + repo + "@" + digest.String(), nil
}

// Key is a cosign-compatible ECDSA P-256 signing key.
type Key struct {
	private *ecdsa.PrivateKey
}

// NewKey makes a P-256 key pair.
func NewKey() (*Key, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate P-256 key: %w", err)
	}
	return &Key{private: k}, nil
}

// PublicPEM is the public key as cosign writes it (cosign.pub): a PKIX "PUBLIC KEY" block.
func (k *Key) PublicPEM() (string, error) {
	der, err := x509.MarshalPKIXPublicKey(&k.private.PublicKey)
	if err != nil {
		return "", fmt.Errorf("marshal public key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// simpleSigning is the payload cosign signs: the image's identity and manifest digest.
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
	Optional map[string]string `json:"optional"`
}

// Sign signs the image at digestRef (<host>/<repo>@sha256:...) with key and pushes the
// signature where cosign puts it: <host>/<repo>:sha256-<hex>.sig.
func (r *Registry) Sign(ctx context.Context, digestRef string, key *Key) error {
	d, err := name.NewDigest(digestRef)
	if err != nil {
		return fmt.Errorf("parse digest reference %q: %w", digestRef, err)
	}
	var p simpleSigning
	p.Critical.Identity.DockerReference = d.Context().Name()
	p.Critical.Image.DockerManifestDigest = d.DigestStr()
	p.Critical.Type = "cosign container image signature"
	payload, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("marshal payload: %w", err)
	}
	sum := sha256.Sum256(payload)
	sig, err := ecdsa.SignASN1(rand.Reader, key.private, sum[:])
	if err != nil {
		return fmt.Errorf("sign payload: %w", err)
	}
	layer := static.NewLayer(payload, simpleSigningMediaType)
	img, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1), mutate.Addendum{
		Layer:       layer,
		Annotations: map[string]string{signatureAnnotation: base64.StdEncoding.EncodeToString(sig)},
		MediaType:   simpleSigningMediaType,
	})
	if err != nil {
		return fmt.Errorf("build signature image: %w", err)
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	sigTag := d.Context().Tag(strings.Replace(d.DigestStr(), ":", "-", 1) + ".sig")
	if err := remote.Write(sigTag, img, remote.WithContext(ctx)); err != nil {
		return fmt.Errorf("push signature %s: %w", sigTag, err)
	}
	return nil
}
