package release

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/platform-template/template-api/test/e2e/internal/provenance"
)

// Docker builds the Dockerfile with the docker CLI, when there is an engine and both pinned
// bases are already in it (nothing is pulled by a release: the bases are the digests the
// Dockerfile names, or the build does not happen this way).
type Docker struct {
	Path string // the docker CLI; empty: `docker` on PATH
}

func (d Docker) cli() (string, error) {
	if d.Path != "" {
		if _, err := os.Stat(d.Path); err != nil {
			return "", err
		}
		return d.Path, nil
	}
	return exec.LookPath("docker")
}

// CanBuild reports whether the Dockerfile can be built here, and if not, why.
func (d Docker) CanBuild(ctx context.Context, bases []provenance.Image) (bool, string) {
	docker, err := d.cli()
	if err != nil {
		return false, "no docker CLI"
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := exec.CommandContext(ctx, docker, "info").Run(); err != nil { // the docker CLI
		return false, "no Docker engine answers"
	}
	var missing []string
	for _, b := range bases {
		if err := exec.CommandContext(ctx, docker, "image", "inspect", b.Ref).Run(); err != nil { // the Dockerfile's own base
			missing = append(missing, b.Ref)
		}
	}
	if len(missing) > 0 {
		return false, "the Dockerfile's bases are not in the Docker engine: " + strings.Join(missing, ", ")
	}
	return true, ""
}

// Build runs docker build on the repository and returns the image, read back through a docker
// save into tarPath (which must outlive the image's use).
func (d Docker) Build(ctx context.Context, root, version string, labels map[string]string, tarPath string) (v1.Image, error) {
	docker, err := d.cli()
	if err != nil {
		return nil, err
	}
	tag := ImageName + ":release"
	args := []string{"build", "--pull=false", "--build-arg", "VERSION=" + version, "-t", tag}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "--label", k+"="+labels[k])
	}
	cmd := exec.CommandContext(ctx, docker, append(args, root)...) // docker build of the repository
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("docker build: %w\n%s", err, lastLines(string(out), 20))
	}
	if out, err := exec.CommandContext(ctx, docker, "save", "-o", tarPath, tag).CombinedOutput(); err != nil { // docker save of the image just built
		return nil, fmt.Errorf("docker save: %w\n%s", err, out)
	}
	img, err := tarball.ImageFromPath(tarPath, nil)
	if err != nil {
		return nil, fmt.Errorf("read the built image: %w", err)
	}
	return img, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
