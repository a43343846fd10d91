// Package cosign runs the cosign binary built from tools/kyverno (set by `make test-policies` in
// COSIGN_BIN) to sign and attest test images with key pairs made for the run: the signatures and
// attestations the Kyverno engine verifies are cosign's own, never written by hand.
package cosign

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
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

// FromEnv returns the cosign named by $COSIGN_BIN.
func FromEnv() (CLI, error) {
	p := os.Getenv("COSIGN_BIN")
	if p == "" {
		return CLI{}, errors.New("COSIGN_BIN is not set: run `make test-policies`, which builds cosign from tools/kyverno and sets it")
	}
	if _, err := os.Stat(p); err != nil { //nolint:gosec // the binary make test-policies names
		return CLI{}, fmt.Errorf("COSIGN_BIN=%s: %w", p, err)
	}
	return CLI{Path: p}, nil
}

// Key is a key pair cosign generated (P-256), its private half encrypted with a password that
// reaches cosign only through its environment.
type Key struct {
	Private, Public string
	password        string
}

// NewKey runs `cosign generate-key-pair` into dir/<name>.key and dir/<name>.pub.
func (c CLI) NewKey(ctx context.Context, dir, name string) (Key, error) {
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return Key{}, fmt.Errorf("key password: %w", err)
	}
	k := Key{Private: filepath.Join(dir, name+".key"), Public: filepath.Join(dir, name+".pub"), password: hex.EncodeToString(raw)}
	if err := c.run(ctx, k.password, "generate-key-pair", "--output-key-prefix", filepath.Join(dir, name)); err != nil {
		return Key{}, err
	}
	return k, nil
}

// PublicPEM is the public key file's content.
func (k Key) PublicPEM() (string, error) {
	b, err := os.ReadFile(k.Public)
	if err != nil {
		return "", fmt.Errorf("read public key: %w", err)
	}
	return string(b), nil
}

// Offline, key-based: no transparency log entry, no signing config to fetch.
var offline = []string{"--yes", "--tlog-upload=false", "--use-signing-config=false"}

// Sign runs `cosign sign --key` on ref (a digest reference).
func (c CLI) Sign(ctx context.Context, k Key, ref string) error {
	return c.run(ctx, k.password, append(append([]string{"sign", "--key", k.Private}, offline...), ref)...)
}

// Attest runs `cosign attest --key --type predicateType --predicate file` on ref.
func (c CLI) Attest(ctx context.Context, k Key, ref, predicateType, file string) error {
	args := append([]string{"attest", "--key", k.Private, "--type", predicateType, "--predicate", file}, offline...)
	return c.run(ctx, k.password, append(args, ref)...)
}

func (c CLI) run(ctx context.Context, password string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Path, args...) //nolint:gosec // the pinned cosign on test images
	cmd.Env = append(os.Environ(), "SIGSTORE_NO_CACHE=true", "COSIGN_PASSWORD="+password)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cosign %s: %w: %s", args[0], err, strings.ReplaceAll(strings.TrimSpace(out.String()), password, "[password]"))
	}
	return nil
}
