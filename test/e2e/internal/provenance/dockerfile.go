package provenance

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DockerfileBases reads the images a Dockerfile builds from (its FROM lines), each with the
// digest it is pinned to. A FROM that names an earlier stage is not a base image; a base that is
// not pinned by digest is an error (the provenance would not say what was built on).
func DockerfileBases(r io.Reader) ([]Image, error) {
	var (
		bases  []Image
		stages = map[string]bool{}
		last   = -1
	)
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || !strings.EqualFold(fields[0], "FROM") {
			continue
		}
		args := fields[1:]
		for len(args) > 0 && strings.HasPrefix(args[0], "--") { // --platform=...
			args = args[1:]
		}
		if len(args) == 0 {
			return nil, fmt.Errorf("line %d of the Dockerfile: FROM without an image", line)
		}
		ref, stage := args[0], ""
		if len(args) >= 3 && strings.EqualFold(args[1], "AS") {
			stage = strings.ToLower(args[2])
		}
		if stages[strings.ToLower(ref)] {
			last = -1 // builds on an earlier stage: no new base
		} else {
			_, digest, ok := strings.Cut(ref, "@")
			if !ok || !digestRE.MatchString(digest) {
				return nil, fmt.Errorf("line %d of the Dockerfile: base image %s is not pinned by a sha256 digest", line, ref)
			}
			role := "base image"
			if stage != "" {
				role = "base image of stage " + stage
			}
			bases = append(bases, Image{Ref: ref, Role: role, Digest: digest})
			last = len(bases) - 1
		}
		if stage != "" {
			stages[stage] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read Dockerfile: %w", err)
	}
	if len(bases) == 0 {
		return nil, errors.New("the Dockerfile has no FROM line naming a base image")
	}
	if last >= 0 {
		bases[last].Role = "runtime base image (final stage)"
	}
	return bases, nil
}
