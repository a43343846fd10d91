package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/platform-template/template-api/test/e2e/internal/cluster"
	"github.com/platform-template/template-api/test/e2e/internal/harness"
	"github.com/platform-template/template-api/test/e2e/internal/proc"
)

// The service runs under the service's own throwaway-PostgreSQL runner (bin/devdb, the
// machinery of `make run`), which passes SIGTERM on and removes the database when it ends.
const serviceProc = "template-api"

func serviceDir(cfg harness.Config) string { return filepath.Join(cfg.RunDir, "service") }

func devdbPath(cfg harness.Config) string { return filepath.Join(cfg.Root, "bin", "devdb") }

func stopService(cfg harness.Config, out io.Writer) {
	if p, ok := proc.Find(serviceDir(cfg), serviceProc); ok {
		fmt.Fprintf(out, "  ... stopping the demo's service (pid %d)\n", p.PID)
		_ = p.Stop(30 * time.Second)
	}
}

// runService starts the service against a throwaway PostgreSQL, sends one request with a
// traceparent and prints the service's log line that carries that trace id.
func runService(ctx context.Context, cfg harness.Config, out io.Writer) error {
	ports, err := cluster.FreePorts(2)
	if err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	fmt.Fprintf(out, "\n== The service, as a process against its own PostgreSQL ==\n")
	p, err := proc.Start(proc.Spec{Name: serviceProc, Path: devdbPath(cfg), Dir: serviceDir(cfg), Detach: true,
		Args: []string{"--", cfg.ServiceBinary},
		Env: []string{"HTTP_ADDR=" + addr, fmt.Sprintf("METRICS_ADDR=127.0.0.1:%d", ports[1]),
			"APP_ENV=development", "LOG_LEVEL=info"}})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  ... started bin/devdb -- bin/api (pid %d, log %s)\n", p.PID, p.LogPath)
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := p.WaitFor(wctx, "the service's /readyz", 250*time.Millisecond, func(ctx context.Context) error {
		return expect(ctx, http.MethodGet, "http://"+addr+"/readyz", "", nil, http.StatusOK)
	}); err != nil {
		return err
	}
	traceID, spanID := randomHex(16), randomHex(8)
	traceparent := "00-" + traceID + "-" + spanID + "-01"
	if err := expect(ctx, http.MethodPost, "http://"+addr+"/v1/items", `{"name":"demo"}`,
		map[string]string{"traceparent": traceparent, "Content-Type": "application/json"}, http.StatusCreated); err != nil {
		return err
	}
	fmt.Fprintf(out, "request:  POST http://%s/v1/items  traceparent: %s\n", addr, traceparent)
	var line string
	err = p.WaitFor(wctx, "the request's log line", 100*time.Millisecond, func(context.Context) error {
		line = findLine(p.LogPath, traceID)
		if line == "" {
			return fmt.Errorf("no log line with trace id %s yet", traceID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "log line: %s\n", line)
	fmt.Fprintf(out, "the service keeps running on http://%s (log: %s)\n", addr, p.LogPath)
	return nil
}

func expect(ctx context.Context, method, url, body string, headers map[string]string, status int) error {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != status {
		return fmt.Errorf("%s %s: %s %s", method, url, resp.Status, strings.TrimSpace(string(b)))
	}
	return nil
}

func findLine(path, needle string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), needle) {
			return sc.Text()
		}
	}
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
