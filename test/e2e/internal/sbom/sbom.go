// Package sbom makes the CycloneDX SBOM of a Go binary with cyclonedx-gomod (built from
// tools/kyverno): every module linked into the binary, with its version and go.sum hash, the
// standard library, and the build settings, read from the build information the Go linker
// embeds. It describes the binary actually shipped in the image, not the source tree.
package sbom

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// PredicateType is CycloneDX's in-toto predicate type (cosign's `--type cyclonedx`).
const PredicateType = "https://cyclonedx.org/bom"

const toolModule = "github.com/CycloneDX/cyclonedx-gomod"

// Generator is the cyclonedx-gomod binary.
type Generator struct {
	Path    string
	version string // the cyclonedx-gomod module version the binary was built from
}

// Find returns the generator at path with its version, read from the binary's build info.
// (Built from a wrapper module, cyclonedx-gomod cannot know its own version and writes
// v0.0.0-unknown into the SBOM; the version is set right from the module it was built from.)
func Find(path string) (Generator, error) {
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return Generator{}, fmt.Errorf("cyclonedx-gomod at %s (make cyclonedx-gomod builds it from tools/kyverno): %w", path, err)
	}
	for _, d := range info.Deps {
		if d.Path == toolModule {
			return Generator{Path: path, version: d.Version}, nil
		}
	}
	if info.Main.Path == toolModule && info.Main.Version != "(devel)" {
		return Generator{Path: path, version: info.Main.Version}, nil
	}
	return Generator{}, fmt.Errorf("%s is not a cyclonedx-gomod build (no %s in its build info)", path, toolModule)
}

// Version is the generator's module version, e.g. v1.10.0.
func (g Generator) Version() string { return g.version }

// Binary returns the SBOM (CycloneDX JSON) of the Go binary at path; version names the main
// component (the binary is built with -trimpath and no VCS stamp, so it cannot tell).
func (g Generator) Binary(ctx context.Context, path, version string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	args := []string{"bin", "-json", "-std", "-output", "-"}
	if version != "" {
		args = append(args, "-version", version)
	}
	cmd := exec.CommandContext(ctx, g.Path, append(args, path)...) // the pinned generator on the release's binary
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("cyclonedx-gomod bin %s: %w: %s", path, err, strings.TrimSpace(stderr.String()))
	}
	return g.fix(stdout.Bytes())
}

// fix checks the document is a CycloneDX SBOM that lists components, and records the tool's
// real version.
func (g Generator) fix(doc []byte) ([]byte, error) {
	var bom map[string]any
	if err := json.Unmarshal(doc, &bom); err != nil {
		return nil, fmt.Errorf("cyclonedx-gomod printed no JSON: %w", err)
	}
	if bom["bomFormat"] != "CycloneDX" {
		return nil, fmt.Errorf("cyclonedx-gomod printed bomFormat %v, want CycloneDX", bom["bomFormat"])
	}
	if comps, _ := bom["components"].([]any); len(comps) == 0 {
		return nil, errors.New("the SBOM lists no components: the binary carries no Go build information")
	}
	meta, _ := bom["metadata"].(map[string]any)
	for _, tool := range toolEntries(meta) {
		if tool["name"] == "cyclonedx-gomod" {
			tool["version"] = g.version
		}
	}
	out, err := json.MarshalIndent(bom, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode SBOM: %w", err)
	}
	return append(out, '\n'), nil
}

// toolEntries returns metadata.tools as a list of objects, in either of CycloneDX's layouts
// (1.4's array of tools, 1.5+'s {components: [...]}).
func toolEntries(meta map[string]any) []map[string]any {
	var list []any
	switch t := meta["tools"].(type) {
	case []any:
		list = t
	case map[string]any:
		list, _ = t["components"].([]any)
	}
	var out []map[string]any
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// Summary is what a release prints about an SBOM.
type Summary struct {
	Components int
	Main       string // name@version of the main component
}

// Summarize reads an SBOM's component count and main component.
func Summarize(doc []byte) (Summary, error) {
	var bom struct {
		Metadata struct {
			Component struct{ Name, Version string } `json:"component"`
		} `json:"metadata"`
		Components []json.RawMessage `json:"components"`
	}
	if err := json.Unmarshal(doc, &bom); err != nil {
		return Summary{}, fmt.Errorf("read SBOM: %w", err)
	}
	return Summary{Components: len(bom.Components), Main: bom.Metadata.Component.Name + "@" + bom.Metadata.Component.Version}, nil
}
