// Command registry is the demo's in-cluster OCI registry (k8s/platform/registry):
// go-containerregistry's registry, in memory, over plain HTTP, until SIGTERM.
//
//	registry [--listen=:5000]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/platform-template/template-api/test/e2e/internal/cli"
	"github.com/platform-template/template-api/test/internal/oci"
)

func main() {
	cli.Main("registry", func(ctx context.Context, args []string, _ func(string) string, _, stderr io.Writer) error {
		return run(ctx, args, stderr)
	})
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("registry", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", ":5000", "address to serve on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return errors.New("no arguments expected beside --listen")
	}
	reg, err := oci.Serve(*listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "registry: serving on %s\n", reg.Addr)
	<-ctx.Done()
	return reg.Close(context.Background())
}
