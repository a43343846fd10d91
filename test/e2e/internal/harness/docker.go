package harness

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/platform-template/template-api/test/e2e/internal/cluster"
)

// dockerImage builds the image from the repository's Dockerfile (kind mode only, where Docker
// runs; ok is false elsewhere) and reads it back from `docker save`, to be pushed to the
// in-cluster registry like every other image.
func (e *Env) dockerImage(ctx context.Context) (v1.Image, bool, error) {
	if e.Config.Mode != cluster.ModeKind {
		return nil, false, nil
	}
	const tag = "template-api:e2e-build"
	archive := filepath.Join(e.Config.RunDir, "template-api-image.tar")
	e.Config.Log("docker build -t %s %s (the Dockerfile)", tag, e.Config.Root)
	for _, args := range [][]string{{"build", "-t", tag, e.Config.Root}, {"save", "-o", archive, tag}} {
		cmd := exec.CommandContext(ctx, "docker", args...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, true, fmt.Errorf("docker %s: %w\n%s", strings.Join(args, " "), err, tail(string(out), 20))
		}
	}
	img, err := tarball.ImageFromPath(archive, nil)
	if err != nil {
		return nil, true, fmt.Errorf("read back %s: %w", tag, err)
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
