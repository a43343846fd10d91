package oci

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestBuildPushExtract: the assembled image is laid out as the Dockerfile's runtime stage
// (user 65532, entrypoint /api), a push to the loopback registry reads back under its digest,
// /api comes back out of the image byte for byte, and a label makes another digest.
func TestBuildPushExtract(t *testing.T) {
	ctx := context.Background()
	reg, err := Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close(ctx) })
	if err := Ping(ctx, reg.Addr); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "api")
	content := []byte("#!/bin/true\n")
	if err := os.WriteFile(bin, content, 0o755); err != nil {
		t.Fatal(err)
	}
	img, err := Build(ImageSpec{Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Config.User != "65532:65532" || strings.Join(cfg.Config.Entrypoint, " ") != "/api" {
		t.Errorf("user %q entrypoint %v; want the Dockerfile's 65532:65532 and /api", cfg.Config.User, cfg.Config.Entrypoint)
	}
	d, err := Push(ctx, Remote{}, reg.Addr+"/template-api:e2e", img)
	if err != nil {
		t.Fatal(err)
	}
	back, err := remote.Image(d, remote.WithContext(ctx))
	if err != nil {
		t.Fatalf("read back %s: %v", d, err)
	}
	if got, _ := back.Digest(); got.String() != d.DigestStr() {
		t.Fatalf("read back digest %s, want %s", got, d.DigestStr())
	}
	out := filepath.Join(dir, "api.out")
	if err := ExtractFile(back, "api", out); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != string(content) {
		t.Fatalf("extracted %q (%v), want the binary", b, err)
	}
	if err := ExtractFile(back, "etc/passwd", out); err == nil || !strings.Contains(err.Error(), "not in the image") {
		t.Fatalf("extracting a missing file: %v", err)
	}
	other, err := Build(ImageSpec{Binary: bin, Labels: map[string]string{"v": "other"}})
	if err != nil {
		t.Fatal(err)
	}
	od, err := other.Digest()
	if err != nil || od.String() == d.DigestStr() {
		t.Fatalf("a labelled variant has digest %s (%v), want another than %s", od, err, d.DigestStr())
	}
	if err := Ping(ctx, "127.0.0.1:1"); err == nil {
		t.Fatal("a registry answered where none listens")
	}
}

// TestPushRandom: an image pushed to the loopback registry is there under its digest, and two
// pushes are two different images.
func TestPushRandom(t *testing.T) {
	ctx := context.Background()
	reg, err := Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close(ctx) })
	a, err := reg.PushRandom(ctx, "app", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	b, err := reg.PushRandom(ctx, "app", "1.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a, reg.Addr+"/app@sha256:") || a == b {
		t.Fatalf("pushed %q and %q, want two different %s/app@sha256:... references", a, b, reg.Addr)
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
