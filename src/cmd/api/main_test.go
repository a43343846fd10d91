package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/platform-template/template-api/src/internal/pgcluster"
	"github.com/platform-template/template-api/src/internal/testdb"
)

var cluster *pgcluster.Cluster

func TestMain(m *testing.M) {
	os.Exit(testdb.Main(m, func(c *pgcluster.Cluster) { cluster = c }))
}

// logBuffer collects the JSON lines run writes, safely across goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) lines() []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

func (b *logBuffer) find(pred func(map[string]any) bool) map[string]any {
	for _, l := range b.lines() {
		if pred(l) {
			return l
		}
	}
	return nil
}

type service struct {
	base   string
	logs   *logBuffer
	cancel context.CancelFunc
	done   chan error
}

// start runs the service through run() on a random port against the test cluster.
func start(t *testing.T, env map[string]string) *service {
	t.Helper()
	vars := map[string]string{
		"DATABASE_URL": cluster.URL(), "HTTP_ADDR": "127.0.0.1:0", "METRICS_ADDR": "127.0.0.1:0",
		"SHUTDOWN_DRAIN_DELAY": "0s", "LOG_LEVEL": "info", "DB_QUERY_TIMEOUT": "1s", "DB_CONNECT_TIMEOUT": "500ms",
	}
	for k, v := range env {
		vars[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &service{logs: &logBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- run(ctx, nil, func(k string) string { return vars[k] }, s.logs, io.Discard) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if l := s.logs.find(func(m map[string]any) bool { return m["message"] == "listening" && m["server"] == "api" }); l != nil {
			s.base = "http://" + l["addr"].(string)
			t.Cleanup(func() { s.stop(t) })
			return s
		}
		select {
		case err := <-s.done:
			t.Fatalf("run returned before listening: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatal("service did not start listening")
	return nil
}

func (s *service) stop(t *testing.T) {
	s.cancel()
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("run did not return after cancel")
	}
}

func call(t *testing.T, method, url, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	return resp, string(b)
}

func TestRunServesItemLifecycleWithTraceLogging(t *testing.T) {
	s := start(t, nil)
	const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	resp, body := call(t, "POST", s.base+"/v1/items", `{"name":"lifecycle"}`, "Traceparent", traceparent, "X-Request-Id", "lifecycle-1")
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var it struct{ ID, Name string }
	if err := json.Unmarshal([]byte(body), &it); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(resp.Header.Get("Traceparent"), "00-0af7651916cd43dd8448eb211c80319c-") {
		t.Fatalf("traceparent not continued: %q", resp.Header.Get("Traceparent"))
	}
	if resp, body := call(t, "GET", s.base+"/v1/items/"+it.ID, ""); resp.StatusCode != 200 || !strings.Contains(body, "lifecycle") {
		t.Fatalf("get: %d %s", resp.StatusCode, body)
	}
	if resp, body := call(t, "GET", s.base+"/v1/items?limit=100", ""); resp.StatusCode != 200 || !strings.Contains(body, it.ID) {
		t.Fatalf("list: %d %s", resp.StatusCode, body)
	}
	if resp, _ := call(t, "DELETE", s.base+"/v1/items/"+it.ID, ""); resp.StatusCode != 204 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if resp, _ := call(t, "GET", s.base+"/v1/items/"+it.ID, ""); resp.StatusCode != 404 {
		t.Fatalf("get after delete: %d", resp.StatusCode)
	}

	// The access line of the create carries the trace id given in its traceparent.
	line := s.logs.find(func(m map[string]any) bool { return m["message"] == "request" && m["request_id"] == "lifecycle-1" })
	if line == nil || line["trace_id"] != "0af7651916cd43dd8448eb211c80319c" || line["parent_span_id"] != "b7ad6b7169203331" ||
		line["route"] != "/v1/items" || line["status"] != float64(201) {
		t.Fatalf("access line: %v", line)
	}

	// Metrics are served on their own listener, by route pattern.
	m := s.logs.find(func(m map[string]any) bool { return m["message"] == "listening" && m["server"] == "metrics" })
	_, metricsBody := call(t, "GET", "http://"+m["addr"].(string)+"/metrics", "")
	for _, want := range []string{`http_requests_total{method="POST",route="/v1/items",status="201"} 1`, `route="/v1/items/{id}"`, "db_pool_total_connections"} {
		if !strings.Contains(metricsBody, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestHeadOverHTTP: through the real server, HEAD answers with GET's status and headers and no
// body; an unknown method on an unknown path is 404, on a known one 405 with Allow.
func TestHeadOverHTTP(t *testing.T) {
	s := start(t, nil)
	for _, path := range []string{"/healthz", "/readyz", "/v1/items", "/v1/items/01a229a6-8db1-791e-bd68-2e4bdb8501ad"} {
		get, getBody := call(t, "GET", s.base+path, "")
		head, headBody := call(t, "HEAD", s.base+path, "")
		if head.StatusCode != get.StatusCode || headBody != "" || head.Header.Get("Content-Type") != get.Header.Get("Content-Type") ||
			head.ContentLength != int64(len(getBody)) {
			t.Errorf("HEAD %s = %d, %d bytes, length %d; GET = %d, %d bytes", path, head.StatusCode, len(headBody), head.ContentLength, get.StatusCode, len(getBody))
		}
	}
	if resp, _ := call(t, "BREW", s.base+"/coffee", ""); resp.StatusCode != 404 {
		t.Errorf("BREW /coffee = %d, want 404", resp.StatusCode)
	}
	if resp, _ := call(t, "BREW", s.base+"/v1/items", ""); resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD, POST" {
		t.Errorf("BREW /v1/items = %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	line := s.logs.find(func(m map[string]any) bool {
		return m["message"] == "request" && m["method"] == "HEAD" && m["route"] == "/healthz"
	})
	if line == nil || line["bytes"] != float64(0) || line["status"] != float64(200) {
		t.Errorf("HEAD access line: %v", line)
	}
}

// TestOptionsAsteriskGoesThroughTheAPI: net/http answers `OPTIONS *` itself by default (200,
// no body, no trace headers, no access line); the server hands it to the API like any request.
func TestOptionsAsteriskGoesThroughTheAPI(t *testing.T) {
	s := start(t, nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	if _, err := fmt.Fprint(conn, "OPTIONS * HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/json" ||
		resp.Header.Get("Traceparent") == "" || !strings.Contains(string(body), `"not_found"`) {
		t.Errorf("OPTIONS * = %d %q, Traceparent %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Traceparent"), body)
	}
	if line := s.logs.find(func(m map[string]any) bool {
		return m["message"] == "request" && m["method"] == "OPTIONS" && m["route"] == "unmatched"
	}); line == nil {
		t.Error("no access line for OPTIONS *")
	}
}

// TestSlowBodyIsLoggedAsClientTimeout: a body that stops arriving is cut by HTTP_READ_TIMEOUT.
// The access line says so (outcome client_timeout) with the status the client really got: 408
// when the write deadline still allowed an answer, 0 when the client got nothing.
func TestSlowBodyIsLoggedAsClientTimeout(t *testing.T) {
	tests := []struct {
		name, read, write string
		clientSees        int // 0: no response at all
	}{
		{"answer still possible", "1s", "3s", http.StatusRequestTimeout},
		{"write deadline passed first", "2s", "1s", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, map[string]string{"HTTP_READ_TIMEOUT": tc.read, "HTTP_WRITE_TIMEOUT": tc.write})
			conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = conn.Close() }()
			fmt.Fprintf(conn, "POST /v1/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Request-Id: slow-%s\r\nContent-Length: 100\r\n\r\n{\"name\":", tc.read)
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			got := 0
			if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err == nil {
				got = resp.StatusCode
				_ = resp.Body.Close()
			}
			if got != tc.clientSees {
				t.Fatalf("client saw status %d, want %d", got, tc.clientSees)
			}
			var line map[string]any
			for deadline := time.Now().Add(5 * time.Second); line == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				line = s.logs.find(func(m map[string]any) bool { return m["message"] == "request" && m["request_id"] == "slow-"+tc.read })
			}
			if line == nil || line["status"] != float64(tc.clientSees) || line["outcome"] != "client_timeout" {
				t.Fatalf("access line %v: want status %d and outcome client_timeout", line, tc.clientSees)
			}
		})
	}
}

// TestBodyCutShortIsLoggedAsClientClosed: a client that stops sending before the end of the
// body it announced (it closes its side) gets 400, and the access line says the client closed.
func TestBodyCutShortIsLoggedAsClientClosed(t *testing.T) {
	s := start(t, nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	fmt.Fprintf(conn, "POST /v1/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Request-Id: cut-short\r\nContent-Length: 100\r\n\r\n{\"name\":")
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !resp.Close {
		t.Fatalf("answer %d, Connection: close %v", resp.StatusCode, resp.Close)
	}
	var line map[string]any
	for deadline := time.Now().Add(5 * time.Second); line == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		line = s.logs.find(func(m map[string]any) bool { return m["message"] == "request" && m["request_id"] == "cut-short" })
	}
	if line == nil || line["status"] != float64(400) || line["outcome"] != "client_closed" {
		t.Fatalf("access line %v: want status 400 and outcome client_closed", line)
	}
}

func TestInFlightRequestCompletesOnShutdown(t *testing.T) {
	s := start(t, map[string]string{"SHUTDOWN_DRAIN_DELAY": "300ms"})
	addr := strings.TrimPrefix(s.base, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	body := `{"name":"in flight"}`
	// Send the headers and half the body, so the request is in flight in the handler...
	fmt.Fprintf(conn, "POST /v1/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:8])
	time.Sleep(100 * time.Millisecond)
	// ...then ask the service to stop (SIGTERM), and only then finish the body.
	s.cancel()
	time.Sleep(100 * time.Millisecond)
	if _, err := io.WriteString(conn, body[8:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request lost: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != 201 {
		t.Fatalf("in-flight request: %d", resp.StatusCode)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		s.done <- nil // for the cleanup's stop
	case <-time.After(20 * time.Second):
		t.Fatal("run did not return")
	}
}

func TestDrainTurnsReadinessOffButKeepsServing(t *testing.T) {
	s := start(t, map[string]string{"SHUTDOWN_DRAIN_DELAY": "2s"})
	if resp, _ := call(t, "GET", s.base+"/readyz", ""); resp.StatusCode != 200 {
		t.Fatalf("readyz before: %d", resp.StatusCode)
	}
	s.cancel()
	time.Sleep(200 * time.Millisecond)
	resp, body := call(t, "GET", s.base+"/readyz", "")
	if resp.StatusCode != 503 || !strings.Contains(body, "shutting down") {
		t.Fatalf("readyz while draining: %d %s", resp.StatusCode, body)
	}
	if resp, _ := call(t, "GET", s.base+"/healthz", ""); resp.StatusCode != 200 {
		t.Fatalf("healthz while draining: %d", resp.StatusCode)
	}
	if err := <-s.done; err != nil {
		t.Fatal(err)
	}
	s.done <- nil
	if l := s.logs.find(func(m map[string]any) bool { return m["message"] == "database pool closed" }); l == nil {
		t.Fatal("pool not closed after shutdown")
	}
}

func TestDatabaseOutageAndRecovery(t *testing.T) {
	s := start(t, nil)
	resp, body := call(t, "POST", s.base+"/v1/items", `{"name":"before outage"}`)
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	ctx := context.Background()
	if err := cluster.StopServer(ctx); err != nil {
		t.Fatal(err)
	}
	restarted := false
	defer func() {
		if !restarted {
			_ = cluster.StartServer(ctx)
		}
	}()

	// /readyz turns 503 within 2 s.
	deadline := time.Now().Add(2 * time.Second)
	for {
		resp, body := call(t, "GET", s.base+"/readyz", "")
		if resp.StatusCode == 503 && strings.Contains(body, "database unavailable") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz still %d 2 s into the outage", resp.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Item calls fail fast with 503 (bounded by DB_QUERY_TIMEOUT=1s), never hang or 500.
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v1/items", ""}, {"POST", "/v1/items", `{"name":"during outage"}`},
		{"GET", "/v1/items/01a229a6-8db1-791e-bd68-2e4bdb8501ad", ""},
	} {
		began := time.Now()
		resp, body := call(t, c.method, s.base+c.path, c.body)
		if took := time.Since(began); resp.StatusCode != 503 || took > 1500*time.Millisecond || !strings.Contains(body, `"unavailable"`) {
			t.Fatalf("%s %s during outage: %d in %s: %s", c.method, c.path, resp.StatusCode, took, body)
		}
		if resp.Header.Get("Retry-After") == "" {
			t.Errorf("503 without Retry-After")
		}
	}
	// The process itself stays alive.
	if resp, _ := call(t, "GET", s.base+"/healthz", ""); resp.StatusCode != 200 {
		t.Fatalf("healthz during outage: %d", resp.StatusCode)
	}

	if err := cluster.StartServer(ctx); err != nil {
		t.Fatal(err)
	}
	restarted = true
	deadline = time.Now().Add(10 * time.Second)
	for {
		resp, body := call(t, "POST", s.base+"/v1/items", `{"name":"after outage"}`)
		if resp.StatusCode == 201 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("service did not recover: %d %s", resp.StatusCode, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if resp, _ := call(t, "GET", s.base+"/readyz", ""); resp.StatusCode != 200 {
		t.Fatalf("readyz after recovery: %d", resp.StatusCode)
	}
}

func TestRunRefusesBadConfigurationWithOneLine(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad timeout", map[string]string{"DATABASE_URL": "postgres://a@h/d", "DB_QUERY_TIMEOUT": "soon"}, "DB_QUERY_TIMEOUT"},
		{"no database", map[string]string{}, "DATABASE_URL or DB_HOST"},
		{"bad listen address", map[string]string{"DATABASE_URL": "postgres://a@h/d", "HTTP_ADDR": "localhost"}, "HTTP_ADDR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), nil, func(k string) string { return tc.env[k] }, &out, &out)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line naming %s", err, tc.want)
			}
		})
	}
	if err := run(context.Background(), []string{"serv"}, func(string) string { return "" }, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), `unknown argument #1`) {
		t.Fatalf("unknown subcommand: %v", err)
	}
}

func TestHelpListsConfiguration(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"serve", "migrate", "DATABASE_URL", "DB_IAM_AUTH", "DB_PASSWORD_FILE", "SHUTDOWN_DRAIN_DELAY", "METRICS_ADDR"} {
		if !strings.Contains(out.String(), v) {
			t.Errorf("--help lacks %s", v)
		}
	}
}

func TestMigrateSubcommand(t *testing.T) {
	var out logBuffer
	env := map[string]string{"DATABASE_URL": cluster.URL()}
	for range 2 { // idempotent
		if err := run(context.Background(), []string{"migrate"}, func(k string) string { return env[k] }, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	if l := out.find(func(m map[string]any) bool {
		return m["message"] == "migrations done" && m["schema_version"] == float64(2)
	}); l == nil {
		t.Fatal("no 'migrations done' line")
	}
}
