// Package cli is the main function the commands of test/e2e/cmd share: each command keeps its
// body in a run function its tests call with their own arguments, environment and output, and
// its main is one call to Main.
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Run is a command's body: the process's arguments (without the program name), environment and
// output are passed in, so that its tests run it without a process of its own.
type Run func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error

// Main runs run with the process's arguments, environment and output, and a context cancelled on
// SIGINT or SIGTERM. An error is printed to stderr as "name: error" and the process exits with
// status 1; otherwise Main returns.
func Main(name string, run Run) {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}
