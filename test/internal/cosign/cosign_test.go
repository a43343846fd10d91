package cosign

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platform-template/template-api/test/internal/oci"
	"github.com/platform-template/template-api/test/internal/oci/ocitest"
	"github.com/platform-template/template-api/test/internal/repo"
)

// tool returns cosign from COSIGN_BIN (make test-release sets it) or the repository's
// .tools/bin, and fails, never skips, when it is missing.
func tool(t *testing.T) CLI {
	t.Helper()
	c, err := Find(repo.Tool(t, "COSIGN_BIN", "cosign", "cosign"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pushImage pushes a small image (its content made distinct by label) and returns its digest
// reference.
func pushImage(t *testing.T, reg *oci.Registry, repo, label string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "api")
	if err := os.WriteFile(bin, []byte("#!/bin/true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	img, err := oci.Build(oci.ImageSpec{Binary: bin, Labels: map[string]string{"variant": label}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := oci.Push(context.Background(), oci.Remote{}, reg.Addr+"/"+repo+":"+label, img)
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// TestSignAttestVerify: a key pair made by cosign signs and attests an image on a loopback
// registry; cosign verifies both with that key and refuses them with another; the statements
// name the digest; an unsigned image has no signature; a tag is never signed.
func TestSignAttestVerify(t *testing.T) {
	ctx := context.Background()
	c := tool(t)
	reg := ocitest.Serve(t)
	dir := t.TempDir()
	key, err := c.GenerateKeyPair(ctx, dir, "run")
	if err != nil {
		t.Fatal(err)
	}
	other, err := c.GenerateKeyPair(ctx, dir, "other")
	if err != nil {
		t.Fatal(err)
	}
	pem, err := key.PublicPEM()
	if err != nil || !strings.Contains(pem, "BEGIN PUBLIC KEY") {
		t.Fatalf("public key %q: %v", pem, err)
	}
	if fi, err := os.Stat(passwordFile(key.PrivateKey)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v, mode %v; want 0600", err, fi)
	}
	if again, err := LoadKeyPair(key.PrivateKey); err != nil || again.password != key.password {
		t.Fatalf("LoadKeyPair: %v", err)
	}

	signed := pushImage(t, reg, "app", "signed")
	if err := c.Sign(ctx, key, signed); err != nil {
		t.Fatal(err)
	}
	if err := c.Verify(ctx, key.PublicKey, signed); err != nil {
		t.Fatalf("own signature: %v", err)
	}
	if err := c.Verify(ctx, other.PublicKey, signed); err == nil {
		t.Fatal("the signature verified with another key")
	}
	unsigned := pushImage(t, reg, "app", "unsigned")
	if err := c.Verify(ctx, key.PublicKey, unsigned); err == nil {
		t.Fatal("an unsigned image verified")
	}
	tag := reg.Addr + "/app:signed"
	if err := c.Sign(ctx, key, tag); err == nil || !strings.Contains(err.Error(), "not a digest reference") {
		t.Fatalf("signing a tag: %v, want refused", err)
	}

	predicate := filepath.Join(dir, "predicate.json")
	if err := os.WriteFile(predicate, []byte(`{"runDetails":{"builder":{"id":"https://example.com/builder"}},"buildDefinition":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.Attest(ctx, key, signed, "slsaprovenance1", predicate); err != nil {
		t.Fatal(err)
	}
	out, err := c.VerifyAttestation(ctx, key.PublicKey, signed, "slsaprovenance1")
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := Statements(out)
	if err != nil {
		t.Fatal(err)
	}
	digest := signed[strings.Index(signed, "@")+1:]
	if err := CheckStatements(stmts, digest, "https://slsa.dev/provenance/v1"); err != nil {
		t.Fatal(err)
	}
	if got := stmts[0].BuilderID(); got != "https://example.com/builder" {
		t.Errorf("builder id %q", got)
	}
	if _, err := c.VerifyAttestation(ctx, other.PublicKey, signed, "slsaprovenance1"); err == nil {
		t.Fatal("the attestation verified with another key")
	}
	if _, err := c.VerifyAttestation(ctx, key.PublicKey, signed, "cyclonedx"); err == nil {
		t.Fatal("a provenance passed for an SBOM")
	}
}

// CheckStatements refuses a statement about another digest, of another type, or about more
// than the one image.
func TestCheckStatements(t *testing.T) {
	digest := "sha256:" + strings.Repeat("a", 64)
	good := func() Statement {
		var s Statement
		if err := json.Unmarshal([]byte(`{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://cyclonedx.org/bom",
			"subject":[{"name":"r/app","digest":{"sha256":"`+strings.Repeat("a", 64)+`"}}],"predicate":{}}`), &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if err := CheckStatements([]Statement{good()}, digest, "https://cyclonedx.org/bom"); err != nil {
		t.Fatalf("good statement: %v", err)
	}
	cases := map[string]func(*Statement){
		"other digest":   func(s *Statement) { s.Subject[0].Digest["sha256"] = strings.Repeat("b", 64) },
		"two subjects":   func(s *Statement) { s.Subject = append(s.Subject, s.Subject[0]) },
		"no subject":     func(s *Statement) { s.Subject = nil },
		"other type":     func(s *Statement) { s.PredicateType = "https://spdx.dev/Document" },
		"not in-toto":    func(s *Statement) { s.Type = "https://example.com/Statement/v1" },
		"sha512 subject": func(s *Statement) { s.Subject[0].Digest = map[string]string{"sha512": "x"} },
	}
	for name, mutate := range cases {
		s := good()
		mutate(&s)
		if err := CheckStatements([]Statement{good(), s}, digest, "https://cyclonedx.org/bom"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// No password in errors: a key whose password is wrong fails to sign, and the error does not
// carry the password.
func TestPasswordNeverInErrors(t *testing.T) {
	ctx := context.Background()
	c := tool(t)
	reg := ocitest.Serve(t)
	key, err := c.GenerateKeyPair(ctx, t.TempDir(), "run")
	if err != nil {
		t.Fatal(err)
	}
	wrong := key
	wrong.password = "not-the-password-" + key.password[:8]
	ref := pushImage(t, reg, "app", "x")
	err = c.Sign(ctx, wrong, ref)
	if err == nil {
		t.Fatal("signed with a wrong password")
	}
	for _, secret := range []string{key.password, wrong.password} {
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("the error carries a password: %v", err)
		}
	}
	t.Logf("refused as expected: %v", err)
}
