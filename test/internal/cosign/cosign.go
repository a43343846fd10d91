// Package cosign drives the cosign binary built from tools/kyverno (the same cosign version
// Kyverno verifies with): key pairs made for a run, signatures and attestations on an image
// digest, and their verification. Nothing here writes cosign's formats by hand.
//
// Signatures and attestations made with a key carry no transparency-log entry (the key is the
// run's; there is no Rekor offline), so signing passes --tlog-upload=false and verifying
// --insecure-ignore-tlog, as the policies' cosign-key component does.
package cosign

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// CLI is the cosign binary.
type CLI struct {
	Path string
}

// Find returns the cosign at path, or an error saying how to build it.
func Find(path string) (CLI, error) {
	if _, err := os.Stat(path); err != nil { // the binary make names
		return CLI{}, fmt.Errorf("cosign not found at %s (make cosign builds it from tools/kyverno): %w", path, err)
	}
	return CLI{Path: path}, nil
}

// KeyPair is a cosign key pair on disk: the private key encrypted with a password made for it,
// which is kept in a file beside it (mode 0600) and handed to cosign only through its
// environment, never on a command line or in output.
type KeyPair struct {
	PrivateKey string // cosign.key
	PublicKey  string // cosign.pub
	password   string
}

// Password files beside the key: cosign.password for cosign.key.
func passwordFile(privateKey string) string {
	return strings.TrimSuffix(privateKey, ".key") + ".password"
}

// GenerateKeyPair makes a P-256 key pair in dir with `cosign generate-key-pair` (prefix
// <dir>/<name>: <name>.key, <name>.pub, and the password in <name>.password).
func (c CLI) GenerateKeyPair(ctx context.Context, dir, name string) (KeyPair, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return KeyPair{}, fmt.Errorf("key folder: %w", err)
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return KeyPair{}, fmt.Errorf("key password: %w", err)
	}
	kp := KeyPair{
		PrivateKey: filepath.Join(dir, name+".key"),
		PublicKey:  filepath.Join(dir, name+".pub"),
		password:   base64.RawURLEncoding.EncodeToString(raw),
	}
	for _, f := range []string{kp.PrivateKey, kp.PublicKey} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return KeyPair{}, fmt.Errorf("remove the old %s: %w", f, err)
		}
	}
	if _, err := c.run(ctx, kp, "generate-key-pair", "--output-key-prefix", filepath.Join(dir, name)); err != nil {
		return KeyPair{}, err
	}
	if err := os.WriteFile(passwordFile(kp.PrivateKey), []byte(kp.password), 0o600); err != nil {
		return KeyPair{}, fmt.Errorf("write the key password file: %w", err)
	}
	return kp, nil
}

// LoadKeyPair reads a key pair GenerateKeyPair made.
func LoadKeyPair(privateKey string) (KeyPair, error) {
	pw, err := os.ReadFile(passwordFile(privateKey))
	if err != nil {
		return KeyPair{}, fmt.Errorf("read the password of %s: %w", privateKey, err)
	}
	kp := KeyPair{PrivateKey: privateKey, PublicKey: strings.TrimSuffix(privateKey, ".key") + ".pub", password: strings.TrimSpace(string(pw))}
	for _, f := range []string{kp.PrivateKey, kp.PublicKey} {
		if _, err := os.Stat(f); err != nil {
			return KeyPair{}, fmt.Errorf("key pair: %w", err)
		}
	}
	return kp, nil
}

// PublicPEM is the public key as cosign wrote it.
func (k KeyPair) PublicPEM() (string, error) {
	b, err := os.ReadFile(k.PublicKey)
	if err != nil {
		return "", fmt.Errorf("read public key: %w", err)
	}
	return string(b), nil
}

// Offline signing: no transparency log, no signing config (Fulcio/Rekor/TSA URLs) to fetch.
var offlineSign = []string{"--yes", "--tlog-upload=false", "--use-signing-config=false"}

// Sign signs the image at ref (which must be a digest reference: the signature is on the
// digest, never on a tag) with the key.
func (c CLI) Sign(ctx context.Context, key KeyPair, ref string) error {
	if err := byDigest(ref); err != nil {
		return err
	}
	args := append([]string{"sign", "--key", key.PrivateKey}, offlineSign...)
	_, err := c.run(ctx, key, append(args, ref)...)
	return err
}

// Attest attaches an in-toto attestation of predicateType (cosign's --type: cyclonedx,
// slsaprovenance1, ...) with the predicate in file predicate, signed with the key.
func (c CLI) Attest(ctx context.Context, key KeyPair, ref, predicateType, predicate string) error {
	if err := byDigest(ref); err != nil {
		return err
	}
	args := append([]string{"attest", "--key", key.PrivateKey, "--type", predicateType, "--predicate", predicate}, offlineSign...)
	_, err := c.run(ctx, key, append(args, ref)...)
	return err
}

// Verify runs `cosign verify` with the public key: nil when a signature of ref verifies.
func (c CLI) Verify(ctx context.Context, publicKey, ref string) error {
	_, err := c.run(ctx, KeyPair{}, "verify", "--key", publicKey, "--insecure-ignore-tlog", ref)
	return err
}

// VerifyAttestation runs `cosign verify-attestation --type predicateType` with the public key and
// returns the verified statements, one JSON document per line as cosign prints them (DSSE
// envelopes whose payload is the statement).
func (c CLI) VerifyAttestation(ctx context.Context, publicKey, ref, predicateType string) ([]byte, error) {
	return c.run(ctx, KeyPair{}, "verify-attestation", "--key", publicKey, "--insecure-ignore-tlog", "--type", predicateType, ref)
}

// Version is cosign's own version line (GitVersion).
func (c CLI) Version(ctx context.Context) (string, error) {
	out, err := c.run(ctx, KeyPair{}, "version", "--json")
	if err != nil {
		return "", err
	}
	const key = `"gitVersion": "`
	s := string(out)
	i := strings.Index(s, key)
	if i < 0 {
		return "", fmt.Errorf("cosign version printed no gitVersion: %s", s)
	}
	v, _, _ := strings.Cut(s[i+len(key):], `"`)
	return v, nil
}

func byDigest(ref string) error {
	if !strings.Contains(ref, "@sha256:") {
		return fmt.Errorf("%s is not a digest reference: sign and attest the digest, never a tag", ref)
	}
	return nil
}

// timeout bounds one cosign run; signing on loopback takes well under a second.
const timeout = 2 * time.Minute

// run runs cosign and returns its stdout. The key's password reaches cosign only through
// COSIGN_PASSWORD; errors carry cosign's stderr with the password (were it ever printed) cut out.
func (c CLI) run(ctx context.Context, key KeyPair, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Path, args...) // the pinned cosign binary
	cmd.Env = append(os.Environ(),
		"COSIGN_YES=true",
		// No TUF root is fetched for key-based verification; keep cosign from trying.
		"TUF_ROOT="+filepath.Join(os.TempDir(), "cosign-tuf-unused"),
		"SIGSTORE_NO_CACHE=true",
		"COSIGN_PASSWORD="+key.password,
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if key.password != "" {
			msg = strings.ReplaceAll(msg, key.password, "[password]")
		}
		return stdout.Bytes(), fmt.Errorf("cosign %s: %w: %s", args[0], err, lastLines(msg, 6))
	}
	return stdout.Bytes(), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Save writes the image at ref with its signatures and attestations to an OCI layout in dir
// (`cosign save`), so they travel to another registry together.
func (c CLI) Save(ctx context.Context, ref, dir string) error {
	if err := byDigest(ref); err != nil {
		return err
	}
	_, err := c.run(ctx, KeyPair{}, "save", "--dir", dir, ref)
	return err
}

// Load pushes an OCI layout written by Save, image, signatures and attestations, to repository
// (`cosign load`); the digest is unchanged.
func (c CLI) Load(ctx context.Context, dir, repository string) error {
	_, err := c.run(ctx, KeyPair{}, "load", "--dir", dir, repository)
	return err
}
