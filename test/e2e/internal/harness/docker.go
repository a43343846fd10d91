package harness

import (
	"context"
	"fmt"
	"os/exec"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/platform-template/template-api/test/e2e/internal/cluster"
)

// dockerImage builds the image from the repository's Dockerfile and pushes it to the kind
// registry (kind mode only; ok is false elsewhere).
func (e *Env) dockerImage(ctx context.Context) (v1.Image, bool, error) {
	if e.Cluster.Mode() != cluster.ModeKind {
		return nil, false, nil
	}
	ref := e.Cluster.Registry() + "/template-api:e2e-build"
	e.Config.Log("docker build -t %s %s (the Dockerfile)", ref, e.Config.Root)
	for _, args := range [][]string{{"build", "-t", ref, e.Config.Root}, {"push", ref}} {
		cmd := exec.CommandContext(ctx, "docker", args...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, true, fmt.Errorf("docker %s: %w\n%s", strings.Join(args, " "), err, tail(string(out), 20))
		}
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, true, err
	}
	img, err := remote.Image(r, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain))
	if err != nil {
		return nil, true, fmt.Errorf("read back %s: %w", ref, err)
	}
	return img, true, nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
