// Command probe is what the end-to-end tests run inside the cluster, as Jobs, to see the network
// and the app from where a pod sees them. It is laid out as /api in a small image signed like
// the service, so it passes every admission policy. It prints what it saw, one RESULT (or LOAD)
// line per observation, and leaves the judging to the tests.
//
//	probe tcp HOST:PORT=open|blocked...     connect to each until it is as expected twice in a row
//	                                        (NetworkPolicy agents act within seconds of a change)
//	                                        or 30 s pass: RESULT <target> open|blocked <attempts> <detail>
//	probe listen PORT                       accept TCP connections forever (a peer for tcp)
//	probe roundtrip BASE_URL TRACEPARENT    GET /healthz, POST /v1/items, GET /v1/items/{id}
//	probe load URL SECONDS INTERVAL_MS      GET URL every interval; a LOAD summary line each second
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "probe: %v\n", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: probe tcp|listen|roundtrip|load ARGS")
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "tcp":
		if len(rest) == 0 {
			return errors.New("tcp: give at least one HOST:PORT=open|blocked")
		}
		targets := map[string]string{}
		var order []string
		for _, a := range rest {
			target, want, ok := strings.Cut(a, "=")
			if !ok || (want != "open" && want != "blocked") {
				return fmt.Errorf("tcp: %q is not HOST:PORT=open|blocked", a)
			}
			targets[target] = want
			order = append(order, target)
		}
		// All at once: each may take up to the whole window.
		lines := make([]string, len(order))
		var wg sync.WaitGroup
		for i, target := range order {
			wg.Add(1)
			go func() {
				defer wg.Done()
				state, attempts, detail := settle(ctx, target, targets[target], 30*time.Second)
				lines[i] = fmt.Sprintf("RESULT %s %s %d %s", target, state, attempts, detail)
			}()
		}
		wg.Wait()
		for _, l := range lines {
			fmt.Fprintln(out, l)
		}
		return nil
	case "listen":
		if len(rest) != 1 {
			return errors.New("listen: give a PORT")
		}
		return listen(ctx, rest[0], out)
	case "roundtrip":
		if len(rest) != 2 {
			return errors.New("roundtrip: give BASE_URL and TRACEPARENT")
		}
		return roundtrip(ctx, rest[0], rest[1], out)
	case "load":
		if len(rest) != 3 {
			return errors.New("load: give URL, SECONDS and INTERVAL_MS")
		}
		secs, err1 := strconv.Atoi(rest[1])
		ms, err2 := strconv.Atoi(rest[2])
		if err1 != nil || err2 != nil || secs <= 0 || ms <= 0 {
			return errors.New("load: SECONDS and INTERVAL_MS must be positive integers")
		}
		return load(ctx, rest[0], time.Duration(secs)*time.Second, time.Duration(ms)*time.Millisecond, out)
	default:
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// settle connects to target until the outcome is want twice in a row (one second apart), or
// until d passes; it returns the last outcome, the number of attempts and the last error.
func settle(ctx context.Context, target, want string, d time.Duration) (string, int, string) {
	deadline := time.Now().Add(d)
	streak, attempts := 0, 0
	state, detail := "", ""
	for {
		attempts++
		c, err := net.DialTimeout("tcp", target, 2*time.Second)
		if err != nil {
			state, detail = "blocked", err.Error()
		} else {
			_ = c.Close()
			state, detail = "open", ""
		}
		if state == want {
			streak++
		} else {
			streak = 0
		}
		if streak == 2 || time.Now().After(deadline) || ctx.Err() != nil {
			return state, attempts, detail
		}
		time.Sleep(time.Second)
	}
}

func listen(ctx context.Context, port string, out io.Writer) error {
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); _ = ln.Close() }()
	fmt.Fprintf(out, "listening on %s\n", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		fmt.Fprintf(out, "connection from %s\n", c.RemoteAddr())
		_ = c.Close()
	}
}

var client = &http.Client{Timeout: 5 * time.Second}

// admitted waits until url answers at all (for 30 s at most): a new pod's address reaches the
// NetworkPolicy agent's rules within seconds, and until then the target's policy refuses it.
// It reports how long that took.
func admitted(ctx context.Context, url string, out io.Writer) {
	start := time.Now()
	for time.Since(start) < 30*time.Second && ctx.Err() == nil {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return
		}
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			fmt.Fprintf(out, "ADMITTED after %s\n", time.Since(start).Round(time.Millisecond))
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	fmt.Fprintf(out, "NOT ADMITTED after %s\n", time.Since(start).Round(time.Millisecond))
}

// roundtrip reports each call as RESULT <method> <path> <status> [<body field>], once the
// client is admitted by the target's policy.
func roundtrip(ctx context.Context, base, traceparent string, out io.Writer) error {
	admitted(ctx, base+"/healthz", out)
	call := func(method, path, body string) (int, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewBufferString(body))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("traceparent", traceparent)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer func() { _ = resp.Body.Close() }()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return resp.StatusCode, b, err
	}
	status, _, err := call(http.MethodGet, "/healthz", "")
	if err != nil {
		fmt.Fprintf(out, "RESULT GET /healthz error %v\n", err)
		return nil
	}
	fmt.Fprintf(out, "RESULT GET /healthz %d\n", status)
	status, body, err := call(http.MethodPost, "/v1/items", `{"name":"e2e-roundtrip"}`)
	if err != nil {
		fmt.Fprintf(out, "RESULT POST /v1/items error %v\n", err)
		return nil
	}
	var item struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	_ = json.Unmarshal(body, &item)
	fmt.Fprintf(out, "RESULT POST /v1/items %d %s\n", status, item.ID)
	if item.ID == "" {
		return nil
	}
	status, body, err = call(http.MethodGet, "/v1/items/"+item.ID, "")
	if err != nil {
		fmt.Fprintf(out, "RESULT GET /v1/items/{id} error %v\n", err)
		return nil
	}
	var got struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	_ = json.Unmarshal(body, &got)
	fmt.Fprintf(out, "RESULT GET /v1/items/{id} %d %s %s\n", status, got.ID, got.Name)
	return nil
}

// load sends GET url every interval for d (or until stopped), once the client is admitted by
// the target's policy, and prints, each second and at the end, LOAD total=<n> failed=<n>, plus
// one FAIL line per failure (the first 20).
func load(ctx context.Context, url string, d, interval time.Duration, out io.Writer) error {
	admitted(ctx, url, out)
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	tick, report := time.NewTicker(interval), time.NewTicker(time.Second)
	defer tick.Stop()
	defer report.Stop()
	total, failed := 0, 0
	summary := func() { fmt.Fprintf(out, "LOAD total=%d failed=%d\n", total, failed) }
	for {
		select {
		case <-ctx.Done():
			summary()
			return nil
		case <-report.C:
			summary()
		case <-tick.C:
			total++
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return err
			}
			resp, err := client.Do(req)
			if err != nil {
				if ctx.Err() != nil {
					total--
					continue
				}
				failed++
				if failed <= 20 {
					fmt.Fprintf(out, "FAIL %s %v\n", time.Now().UTC().Format(time.RFC3339Nano), err)
				}
				continue
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				failed++
				if failed <= 20 {
					fmt.Fprintf(out, "FAIL %s status %d\n", time.Now().UTC().Format(time.RFC3339Nano), resp.StatusCode)
				}
			}
		}
	}
}
