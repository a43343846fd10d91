// Command benchstart measures how long a server takes from exec to its first 200 on a URL, and
// its resident memory then: `make bench` uses it for the service (exec to /readyz 200 with its
// database present) and for the bare servers.
//
//	benchstart [-keep] URL -- command [args...]
//
// It prints "ready_ms=<ms> rss_kib=<KiB> pid=<pid>". The command is stopped with SIGTERM unless
// -keep is given (then it keeps running and its pid is what to stop).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchstart:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("benchstart", flag.ContinueOnError)
	keep := fs.Bool("keep", false, "leave the command running")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		return errors.New("usage: benchstart [-keep] URL -- command [args...]")
	}
	url, argv := fs.Arg(0), fs.Args()[1:]
	if argv[0] == "--" {
		argv = argv[1:]
	}
	if len(argv) == 0 {
		return errors.New("no command after --")
	}
	client := &http.Client{Timeout: 200 * time.Millisecond}
	cmd := exec.Command(argv[0], argv[1:]...) //nolint:gosec // starting the given command is the point of benchstart
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	deadline := start.Add(60 * time.Second)
	for {
		if ok := probe(client, url); ok {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			return fmt.Errorf("%s did not answer 200 within 60 s", url)
		}
		time.Sleep(time.Millisecond)
	}
	ready := time.Since(start)
	rss, err := RSS(cmd.Process.Pid)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "ready_ms=%.1f rss_kib=%d pid=%d\n", float64(ready.Microseconds())/1000, rss, cmd.Process.Pid)
	if *keep {
		return cmd.Process.Release()
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	return nil
}

func probe(client *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// RSS returns the resident set size of a process in KiB (VmRSS of /proc/<pid>/status).
func RSS(pid int) (int, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, errors.New("no VmRSS")
}
