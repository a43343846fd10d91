// Package registry runs an OCI registry on loopback for tests and pushes images to it, so that
// the Kyverno engine verifies signatures and attestations (made by cosign itself, see
// internal/cosign) against a real registry offline.
package registry

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
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
