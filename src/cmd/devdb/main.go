// Command devdb runs a command against a throwaway PostgreSQL cluster: it starts one with the
// server binaries on the machine, runs the command with DATABASE_URL pointing at it, and removes
// the cluster when the command ends (Ctrl-C included). `make run` and `make bench` use it.
//
//	devdb [-set NAME=VALUE]... -- command [args...]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/platform-template/template-api/src/internal/pgcluster"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			os.Exit(exit.ExitCode())
		}
		fmt.Fprintf(os.Stderr, "devdb: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("devdb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var settings multiFlag
	fs.Var(&settings, "set", "extra postgresql.conf setting, e.g. -set max_connections=300 (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("usage: devdb [-set name=value]... -- command [args...]")
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	var conf []string
	for _, s := range settings {
		name, value, ok := strings.Cut(s, "=")
		if !ok {
			return fmt.Errorf("-set %q: want name=value", s)
		}
		conf = append(conf, fmt.Sprintf("%s = '%s'", name, strings.ReplaceAll(value, "'", "''")))
	}
	c, err := pgcluster.Start(ctx, pgcluster.Options{Settings: conf, Log: logf})
	if err != nil {
		return err
	}
	defer func() {
		if err := c.Close(); err != nil {
			logf("devdb: cleanup: %v", err)
			return
		}
		logf("devdb: PostgreSQL stopped, %s removed", c.Dir)
	}()

	// Ctrl-C reaches the whole foreground process group, the child included; devdb only has to
	// outlive the child to clean up. SIGTERM sent to devdb alone is passed on.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	// Running the given command is the point of devdb.
	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	cmd.Env = append(os.Environ(), "DATABASE_URL="+c.URL(), "PGCLUSTER_BINDIR="+c.BinDir)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", fs.Arg(0), err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case err := <-done:
			return err
		case s := <-sigs:
			if s == syscall.SIGTERM {
				_ = cmd.Process.Signal(s)
			}
		}
	}
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
