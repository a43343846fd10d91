package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// commands are the bodies the test binary runs as a command of its own (TestMain, with
// CLI_TEST_COMMAND naming one), so that Main's exit status and signal handling are seen from
// outside, as a shell sees them.
var commands = map[string]Run{
	// ok echoes its arguments and an environment variable, and succeeds.
	"ok": func(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
		fmt.Fprintf(stdout, "args %q env %s\n", args, getenv("CLI_TEST_VALUE"))
		fmt.Fprintln(stderr, "progress")
		return nil
	},
	"fail": func(context.Context, []string, func(string) string, io.Writer, io.Writer) error {
		return errors.New("it went wrong")
	},
	// wait says it is ready, then waits for its context to end (the signal) and returns why.
	"wait": func(ctx context.Context, _ []string, _ func(string) string, stdout, _ io.Writer) error {
		fmt.Fprintln(stdout, "ready")
		<-ctx.Done()
		return ctx.Err()
	},
}

func TestMain(m *testing.M) {
	if name := os.Getenv("CLI_TEST_COMMAND"); name != "" {
		Main("cmd", commands[name])
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestMainExit: Main passes the process's arguments, environment and output to run, exits 0 on
// success and 1 with "name: error" on stderr on failure, and SIGTERM cancels run's context.
func TestMainExit(t *testing.T) {
	cases := []struct {
		command    string
		signal     bool
		wantStatus int
		wantStdout string
		wantStderr string
	}{
		{command: "ok", wantStatus: 0, wantStdout: `args ["a" "-b"] env v` + "\n", wantStderr: "progress\n"},
		{command: "fail", wantStatus: 1, wantStderr: "cmd: it went wrong\n"},
		{command: "wait", signal: true, wantStatus: 1, wantStdout: "ready\n", wantStderr: "cmd: context canceled\n"},
	}
	for _, c := range cases {
		t.Run(c.command, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "a", "-b")
			cmd.Env = append(os.Environ(), "CLI_TEST_COMMAND="+c.command, "CLI_TEST_VALUE=v")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if c.signal {
				line := make([]byte, len("ready\n"))
				if _, err := io.ReadFull(stdout, line); err != nil {
					t.Fatalf("waiting for the command to be ready: %v", err)
				}
				out.Write(line)
				if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := io.Copy(&out, stdout); err != nil {
				t.Fatal(err)
			}
			err = cmd.Wait()
			var exit *exec.ExitError
			status := 0
			if errors.As(err, &exit) {
				status = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if status != c.wantStatus || out.String() != c.wantStdout || stderr.String() != c.wantStderr {
				t.Errorf("status %d, stdout %q, stderr %q; want %d, %q, %q",
					status, out.String(), stderr.String(), c.wantStatus, c.wantStdout, c.wantStderr)
			}
		})
	}
}
