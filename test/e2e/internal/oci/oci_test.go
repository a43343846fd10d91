package oci

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSignVerify: an image pushed to the loopback registry and signed verifies with the
// signer's key, not with another key, and an unsigned image has no signature.
func TestSignVerify(t *testing.T) {
	ctx := context.Background()
	reg, err := Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close(ctx) })
	bin := filepath.Join(t.TempDir(), "api")
	if err := os.WriteFile(bin, []byte("#!/bin/true\n"), 0o755); err != nil {
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
	signed, err := Push(ctx, Remote{}, reg.Addr+"/template-api:signed", img)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	if err := signer.Sign(ctx, Remote{}, signed); err != nil {
		t.Fatal(err)
	}
	if err := Verify(ctx, Remote{}, signed, &signer.Key.PublicKey); err != nil {
		t.Fatalf("own signature: %v", err)
	}
	if err := Verify(ctx, Remote{}, signed, &other.Key.PublicKey); err == nil {
		t.Fatal("the signature verified with another key")
	}
	unsignedImg, err := Build(ImageSpec{Binary: bin, Labels: map[string]string{"v": "unsigned"}})
	if err != nil {
		t.Fatal(err)
	}
	unsigned, err := Push(ctx, Remote{}, reg.Addr+"/template-api:unsigned", unsignedImg)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(ctx, Remote{}, unsigned, &signer.Key.PublicKey); err == nil || !strings.Contains(err.Error(), "no signatures found") {
		t.Fatalf("unsigned image: Verify = %v, want no signatures found", err)
	}
}
