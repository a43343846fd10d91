// Command demo is `make demo`: it brings up a cluster whose node runs pods (kind where Docker
// runs privileged containers, else the local cluster), installs the platform (Kyverno, the
// in-cluster registry) and the policies, deploys the signed service with its PostgreSQL, prints
// the scoreboard (the good deployment ADMITTED, then every bad one REFUSED by
// <component/policy>: <reason>), and sends one request through the cluster to the running app.
// It ends with the app namespace's policy reports (Kyverno's background scan) and an excerpt of
// the API server's audit log: who was refused, by what, how many times. `demo audit` lists the
// refused requests of the audit log; `demo down` stops all of it and checks that nothing is
// left behind.
//
//	demo up | down | audit [flags] | relay HOLDER_PID LISTEN TARGET
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/platform-template/template-api/test/e2e/internal/cluster"
	"github.com/platform-template/template-api/test/e2e/internal/harness"
	"github.com/platform-template/template-api/test/e2e/internal/nodens"
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
		return errors.New("usage: demo up | down | audit [-grep TEXT] [-resource R] [-who USER] [-file LOG] [-summary] | relay HOLDER_PID LISTEN TARGET")
	}
	switch args[0] {
	case "relay":
		return relay(ctx, args[1:])
	case "up", "down", "audit":
	default:
		return fmt.Errorf("unknown command %q: want up, down, audit or relay", args[0])
	}
	cfg, err := harness.FromEnv(ctx, os.Getenv)
	if err != nil {
		return err
	}
	cfg.RunDir = filepath.Join(cfg.Root, ".run", "demo")
	cfg.Detach = true // the demo's processes (and kind cluster) outlive this program
	cfg.Log = func(format string, a ...any) { fmt.Fprintf(out, "  ... "+format+"\n", a...) }
	switch args[0] {
	case "down":
		return down(cfg, out)
	case "audit":
		return auditCommand(ctx, cfg, args[1:], out)
	}
	return up(ctx, cfg, out)
}

// relay is the demo's API server relay: the local cluster's API server listens inside the
// cluster's network namespace, and this process (in the host's) forwards a loopback port to
// it until SIGTERM.
func relay(ctx context.Context, args []string) error {
	if len(args) != 3 {
		return errors.New("relay: give HOLDER_PID LISTEN TARGET")
	}
	pid, err := strconv.Atoi(args[0])
	if err != nil || pid <= 0 {
		return fmt.Errorf("relay: %q is not a PID", args[0])
	}
	ln, err := net.Listen("tcp", args[1])
	if err != nil {
		return err
	}
	(&nodens.NS{PID: pid}).Relay(ctx, ln, args[2])
	return nil
}

func down(cfg harness.Config, out io.Writer) error {
	switch cfg.Mode {
	case cluster.ModeKind:
		if err := cluster.DeleteKind(cfg.KindOptions(nil).Name); err != nil {
			return err
		}
	case cluster.ModeLocal:
		dir := cfg.LocalOptions(nil).Dir
		if err := cluster.StopLocal(dir, cfg.Log); err != nil {
			return err
		}
		if left := cluster.LocalLeftovers(dir); len(left) > 0 {
			for _, l := range left {
				fmt.Fprintf(out, "LEFTOVER %s\n", l)
			}
			return fmt.Errorf("%d things left behind", len(left))
		}
	}
	fmt.Fprintln(out, "demo: everything the demo started is stopped; nothing is left behind")
	return nil
}
