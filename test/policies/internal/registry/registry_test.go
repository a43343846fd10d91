package registry

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestPushRandom: an image pushed to the loopback registry is there under its digest, and two
// pushes are two different images.
func TestPushRandom(t *testing.T) {
	ctx := context.Background()
	reg, err := Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	a, err := reg.PushRandom(ctx, "app", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	b, err := reg.PushRandom(ctx, "app", "1.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a, reg.Host+"/app@sha256:") || a == b {
		t.Fatalf("pushed %q and %q, want two different %s/app@sha256:... references", a, b, reg.Host)
	}
	d, err := name.NewDigest(a)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(d, remote.WithContext(ctx))
	if err != nil {
		t.Fatalf("read back %s: %v", a, err)
	}
	got, err := img.Digest()
	if err != nil || got.String() != d.DigestStr() {
		t.Fatalf("read back digest %v (%v), want %s", got, err, d.DigestStr())
	}
}
