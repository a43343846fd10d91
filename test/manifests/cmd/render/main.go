// Command render prints the rendered manifests of a Kustomize directory, using the same engine
// (krusty) as the manifest tests and `kubectl kustomize`:
//
//	go run ./cmd/render ../../k8s/overlays/staging > staging.yaml
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/platform-template/template-api/test/manifests/manifest"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "render:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: render <kustomization directory>")
	}
	out, err := manifest.RenderYAML(args[0])
	if err != nil {
		return err
	}
	if _, err := stdout.Write(out); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}
