// Package oci is the container side of the tests and of make release without a container
// engine: an OCI registry on loopback (serving only), an image assembled from a static binary
// the way the Dockerfile lays it out (or a random one, for the policy checks), pushing it, and
// reading a file back out of it.
// Signatures and attestations are cosign's own (package cosign), never made here.
package oci

import (
	"archive/tar"
	"bytes"
	"context"
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
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
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

// Remote says how to reach a registry: how its references are parsed (name.Insecure for plain
// HTTP) and the options of every call (e.g. a transport through a port-forward).
type Remote struct {
	Name    []name.Option
	Options []remote.Option
}

func (r Remote) options(ctx context.Context) []remote.Option {
	return append([]remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)}, r.Options...)
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
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o700) // an executable for the SBOM tool to read
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
func Push(ctx context.Context, r Remote, ref string, img v1.Image) (name.Digest, error) {
	tag, err := name.NewTag(ref, r.Name...)
	if err != nil {
		return name.Digest{}, fmt.Errorf("parse %q: %w", ref, err)
	}
	if err := remote.Write(tag, img, r.options(ctx)...); err != nil {
		return name.Digest{}, fmt.Errorf("push %s: %w", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		return name.Digest{}, fmt.Errorf("digest: %w", err)
	}
	return tag.Context().Digest(d.String()), nil
}

// PushRandom pushes a small random image as <registry>/<repo>:<tag> and returns its digest
// reference (<registry>/<repo>@sha256:...): a distinct image for each call, for the policy checks
// that sign and attest images and hand them to the Kyverno engine.
func (r *Registry) PushRandom(ctx context.Context, repo, tag string) (string, error) {
	img, err := random.Image(256, 1)
	if err != nil {
		return "", fmt.Errorf("make a random image: %w", err)
	}
	d, err := Push(ctx, Remote{}, r.Addr+"/"+repo+":"+tag, img)
	if err != nil {
		return "", err
	}
	return d.String(), nil
}
