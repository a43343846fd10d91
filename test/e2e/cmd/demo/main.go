// Command demo is `make demo`: it brings up a cluster with the guardrails (kind where Docker
// answers, else a local control plane), deploys the signed service, and prints a scoreboard:
// the good deployment ADMITTED, then every bad one REFUSED by <component/policy>: <reason>.
// On the local control plane it also runs the service against a throwaway PostgreSQL and shows
// one request's trace id in the service's log. `demo down` stops all of it.
//
//	demo up | down | registry ADDR...
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/platform-template/template-api/test/e2e/internal/cluster"
	"github.com/platform-template/template-api/test/e2e/internal/harness"
	"github.com/platform-template/template-api/test/e2e/internal/oci"
)

func main() {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		if len(os.Args) > 1 && os.Args[1] == "up" {
			fmt.Fprintln(os.Stderr, "demo: logs are in .run/demo/; `make demo-down` stops whatever was started")
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: demo up | down | registry ADDR...")
	}
	switch args[0] {
	case "registry":
		return serveRegistry(ctx, args[1:])
	case "up", "down":
	default:
		return fmt.Errorf("unknown command %q: want up, down or registry", args[0])
	}
	cfg, err := harness.FromEnv(ctx, os.Getenv)
	if err != nil {
		return err
	}
	cfg.RunDir = filepath.Join(cfg.Root, ".run", "demo")
	cfg.Detach = true // the demo's processes (and kind cluster) outlive this program
	cfg.Log = func(format string, a ...any) { fmt.Fprintf(out, "  ... "+format+"\n", a...) }
	if args[0] == "down" {
		return down(ctx, cfg, out)
	}
	return up(ctx, cfg, out)
}

// serveRegistry is the demo's registry process: it serves until SIGTERM.
func serveRegistry(ctx context.Context, addrs []string) error {
	if len(addrs) == 0 {
		return errors.New("registry: give at least one listen address")
	}
	reg, err := oci.Serve(addrs...)
	if err != nil {
		return err
	}
	<-ctx.Done()
	return reg.Close(context.Background())
}

func down(ctx context.Context, cfg harness.Config, out io.Writer) error {
	stopService(cfg, out)
	switch cfg.Mode {
	case cluster.ModeKind:
		o := cfg.KindOptions(nil)
		if err := cluster.DeleteKind(ctx, o.Name, o.Dir, cfg.Log); err != nil {
			return err
		}
	default:
		cluster.StopLocal(cfg.LocalOptions(nil).Dir, cfg.Log)
	}
	fmt.Fprintln(out, "demo: everything the demo started is stopped")
	return nil
}
