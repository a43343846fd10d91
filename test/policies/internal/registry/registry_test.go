package registry

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestSign checks the signature the way cosign lays it out: a simple-signing payload naming the
// image digest, at <repo>:sha256-<hex>.sig, with an ECDSA signature in the layer annotation
// that the public key verifies (and another key does not).
func TestSign(t *testing.T) {
	ctx := context.Background()
	reg, err := Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	key, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := reg.PushRandom(ctx, "app", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ref, reg.Host+"/app@sha256:") {
		t.Fatalf("pushed reference %q, want %s/app@sha256:...", ref, reg.Host)
	}
	if err := reg.Sign(ctx, ref, key); err != nil {
		t.Fatal(err)
	}
	d, err := name.NewDigest(ref)
	if err != nil {
		t.Fatal(err)
	}
	sigRef := d.Context().Tag(strings.Replace(d.DigestStr(), ":", "-", 1) + ".sig")
	img, err := remote.Image(sigRef, remote.WithContext(ctx))
	if err != nil {
		t.Fatalf("no signature at %s: %v", sigRef, err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Layers) != 1 || string(m.Layers[0].MediaType) != simpleSigningMediaType {
		t.Fatalf("signature manifest layers %+v, want one %s layer", m.Layers, simpleSigningMediaType)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	payload, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	var p simpleSigning
	if err := json.Unmarshal(payload, &p); err != nil {
		t.Fatal(err)
	}
	if p.Critical.Image.DockerManifestDigest != d.DigestStr() || p.Critical.Type != "cosign container image signature" {
		t.Errorf("payload %s does not name the image digest %s", payload, d.DigestStr())
	}
	sig, err := base64.StdEncoding.DecodeString(m.Layers[0].Annotations[signatureAnnotation])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(payload)
	for _, tc := range []struct {
		name string
		key  *Key
		want bool
	}{{"signing key", key, true}, {"another key", other, false}} {
		pemKey, err := tc.key.PublicPEM()
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode([]byte(pemKey))
		if block == nil || block.Type != "PUBLIC KEY" {
			t.Fatalf("%s: public key is not a PEM PUBLIC KEY block", tc.name)
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if got := ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), sum[:], sig); got != tc.want {
			t.Errorf("%s verifies the signature: %v, want %v", tc.name, got, tc.want)
		}
	}
}
