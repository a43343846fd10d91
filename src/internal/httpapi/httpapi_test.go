package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/platform-template/template-api/src/internal/items"
	"github.com/platform-template/template-api/src/internal/metrics"
	"github.com/platform-template/template-api/src/internal/pgcluster"
	"github.com/platform-template/template-api/src/internal/reqlog"
	"github.com/platform-template/template-api/src/internal/testdb"
)

var dbURL string // set once by TestMain from the throwaway cluster

func TestMain(m *testing.M) {
	os.Exit(testdb.Main(m, func(c *pgcluster.Cluster) { dbURL = c.URL() }))
}

type harness struct {
	handler  http.Handler
	pool     *pgxpool.Pool
	logs     *lockedBuffer
	draining *atomic.Bool
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessOn(t, dbURL)
}

// newHarnessOn is newHarness on a pool made from url (pgxpool settings such as pool_max_conns).
func newHarnessOn(t *testing.T, url string) *harness {
	t.Helper()
	pool := testdb.Pool(t, url)
	if _, err := pool.Exec(context.Background(), "TRUNCATE items"); err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	logger := reqlog.New(logs, zerolog.DebugLevel, "test")
	h := &harness{pool: pool, logs: logs, draining: &atomic.Bool{}}
	h.handler = Routes(Deps{
		Logger: &logger, Metrics: metrics.NewHTTP(prometheus.NewRegistry()), Items: items.NewStore(pool, 2*time.Second),
		DB: pool, Draining: h.draining, MaxBodyBytes: 1 << 20, ReadyTimeout: time.Second,
	})
	return h
}

// lockedBuffer is a log sink that concurrent requests may write to.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (h *harness) do(method, target, contentType string, body io.Reader, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, body)
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.handler.ServeHTTP(w, r)
	return w
}

func (h *harness) count(t *testing.T) int {
	t.Helper()
	var n int
	if err := h.pool.QueryRow(context.Background(), "SELECT count(*) FROM items").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// assertError checks the one error shape and that its trace id is the response's.
func assertError(t *testing.T, w *httptest.ResponseRecorder, status int, code, msgPart string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d, want %d; body %s", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q", ct)
	}
	var body struct {
		Error   struct{ Code, Message string }
		TraceID string `json:"trace_id"`
	}
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("error body %q: %v", w.Body, err)
	}
	if body.Error.Code != code || !strings.Contains(body.Error.Message, msgPart) {
		t.Fatalf("error = %+v, want code %s containing %q", body.Error, code, msgPart)
	}
	if tp := w.Header().Get("Traceparent"); len(tp) != 55 || tp[3:35] != body.TraceID {
		t.Fatalf("trace_id %q does not match traceparent %q", body.TraceID, tp)
	}
}

const jsonCT = "application/json"

func TestCreateItemRefusesBadInput(t *testing.T) {
	h := newHarness(t)
	big := `{"name":"` + strings.Repeat("a", 1<<20) + `"}`
	tests := []struct {
		name, contentType, body string
		status                  int
		code, msg               string
	}{
		{"no content type", "", `{"name":"a"}`, 415, codeUnsupportedType, "application/json"},
		{"wrong content type", "text/plain", `{"name":"a"}`, 415, codeUnsupportedType, "application/json"},
		{"wrong charset", "application/json; charset=latin1", `{"name":"a"}`, 415, codeUnsupportedType, "UTF-8"},
		{"empty body", jsonCT, ``, 400, codeInvalidJSON, "empty"},
		{"malformed", jsonCT, `{"name":`, 400, codeInvalidJSON, "truncated"},
		{"syntax error", jsonCT, `{"name" "a"}`, 400, codeInvalidJSON, "malformed JSON at byte"},
		{"array", jsonCT, `["a"]`, 400, codeInvalidJSON, "object"},
		{"trailing data", jsonCT, `{"name":"a"}{"name":"b"}`, 400, codeInvalidJSON, "single JSON object"},
		{"unknown field", jsonCT, `{"name":"a","admin":true}`, 400, codeInvalidField, `unknown field "admin"`},
		{"name wrong type", jsonCT, `{"name":42}`, 400, codeInvalidField, `"name" must be a string`},
		{"name missing", jsonCT, `{}`, 400, codeInvalidField, "name is required"},
		{"name null", jsonCT, `{"name":null}`, 400, codeInvalidField, "name is required"},
		{"name empty", jsonCT, `{"name":""}`, 400, codeInvalidField, "name is required"},
		{"name blank", jsonCT, `{"name":"   "}`, 400, codeInvalidField, "blank"},
		{"name control char", jsonCT, `{"name":"a\u0000b"}`, 400, codeInvalidField, "control"},
		{"name too long", jsonCT, `{"name":"` + strings.Repeat("é", 201) + `"}`, 400, codeInvalidField, "at most 200"},
		{"body over limit", jsonCT, big, 413, codeTooLarge, "at most 1048576 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := h.count(t)
			w := h.do(http.MethodPost, "/v1/items", tc.contentType, strings.NewReader(tc.body))
			assertError(t, w, tc.status, tc.code, tc.msg)
			if after := h.count(t); after != before {
				t.Fatalf("refused request changed the table: %d -> %d rows", before, after)
			}
		})
	}
}

// TestCreateItemRefusesContentEncodings: a body that says it is compressed or otherwise encoded
// is refused (415 with Accept-Encoding: identity) and stores nothing, whether or not it really is
// encoded; identity, in any case, is read as no encoding at all.
func TestCreateItemRefusesContentEncodings(t *testing.T) {
	h := newHarness(t)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write([]byte(`{"name":"zipped"}`)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		encodings []string // one Content-Encoding header line each
		body      string
		created   bool
	}{
		{"gzip label on a plain body", []string{"gzip"}, `{"name":"a"}`, false},
		{"a real gzip body", []string{"gzip"}, gz.String(), false},
		{"br", []string{"br"}, `{"name":"a"}`, false},
		{"deflate after identity", []string{"identity, deflate"}, `{"name":"a"}`, false},
		{"a second header line", []string{"identity", "gzip"}, `{"name":"a"}`, false},
		{"an unknown coding", []string{"x-custom"}, `{"name":"a"}`, false},
		{"identity", []string{"identity"}, `{"name":"a"}`, true},
		{"IDENTITY", []string{"IDENTITY"}, `{"name":"a"}`, true},
		{"empty", []string{""}, `{"name":"a"}`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := h.count(t)
			r := httptest.NewRequest(http.MethodPost, "/v1/items", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", jsonCT)
			for _, e := range tc.encodings {
				r.Header.Add("Content-Encoding", e)
			}
			w := httptest.NewRecorder()
			h.handler.ServeHTTP(w, r)
			if tc.created {
				if w.Code != http.StatusCreated {
					t.Fatalf("status %d, want 201: %s", w.Code, w.Body)
				}
				return
			}
			assertError(t, w, http.StatusUnsupportedMediaType, codeUnsupportedType, "must not be compressed")
			if got := w.Header().Get("Accept-Encoding"); got != "identity" {
				t.Fatalf("Accept-Encoding = %q, want identity", got)
			}
			if after := h.count(t); after != before {
				t.Fatalf("refused request changed the table: %d -> %d rows", before, after)
			}
		})
	}
}

func TestBodyLimitWithoutContentLength(t *testing.T) {
	h := newHarness(t)
	// A chunked body (no Content-Length) over the limit is cut by the reader, still a 413.
	r := httptest.NewRequest(http.MethodPost, "/v1/items", io.MultiReader(strings.NewReader(`{"name":"`), strings.NewReader(strings.Repeat("a", 2<<20)), strings.NewReader(`"}`)))
	r.ContentLength = -1
	r.Header.Set("Content-Type", jsonCT)
	w := httptest.NewRecorder()
	h.handler.ServeHTTP(w, r)
	assertError(t, w, 413, codeTooLarge, "at most")
	if h.count(t) != 0 {
		t.Fatal("item stored")
	}
}

func TestItemLifecycleAndPagination(t *testing.T) {
	h := newHarness(t)
	name200 := strings.Repeat("é", 200) // 200 characters, 400 bytes: the limit counts characters
	var ids []string
	for _, name := range []string{"alpha", "beta", "gamma", "delta", name200} {
		w := h.do(http.MethodPost, "/v1/items", "application/json; charset=utf-8", strings.NewReader(`{"name":"`+name+`"}`))
		if w.Code != http.StatusCreated {
			t.Fatalf("create %q: %d %s", name, w.Code, w.Body)
		}
		var it items.Item
		if err := json.Unmarshal(w.Body.Bytes(), &it); err != nil {
			t.Fatal(err)
		}
		if it.Name != name || it.CreatedAt.IsZero() || w.Header().Get("Location") != "/v1/items/"+it.ID.String() {
			t.Fatalf("created %+v, Location %q", it, w.Header().Get("Location"))
		}
		ids = append(ids, it.ID.String())
	}

	w := h.do(http.MethodGet, "/v1/items/"+ids[1], "", nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"name":"beta"`) {
		t.Fatalf("get: %d %s", w.Code, w.Body)
	}

	// Walk the pages two at a time: keyset pagination returns every item once, in creation order.
	var seen []string
	next := ""
	for pages := 0; pages < 10; pages++ {
		target := "/v1/items?limit=2"
		if next != "" {
			target += "&after=" + next
		}
		w := h.do(http.MethodGet, target, "", nil)
		if w.Code != 200 {
			t.Fatalf("list: %d %s", w.Code, w.Body)
		}
		var page struct {
			Items     []items.Item `json:"items"`
			NextAfter string       `json:"next_after"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			seen = append(seen, it.ID.String())
		}
		if page.NextAfter == "" {
			break
		}
		next = page.NextAfter
	}
	if strings.Join(seen, ",") != strings.Join(ids, ",") {
		t.Fatalf("pages gave %v, want %v", seen, ids)
	}

	if w := h.do(http.MethodDelete, "/v1/items/"+ids[0], "", nil); w.Code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", w.Code, w.Body)
	}
	assertError(t, h.do(http.MethodDelete, "/v1/items/"+ids[0], "", nil), 404, codeNotFound, "item not found")
	assertError(t, h.do(http.MethodGet, "/v1/items/"+ids[0], "", nil), 404, codeNotFound, "item not found")
}

func TestReadRequestsRefuseBadInput(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name, method, target string
		status               int
		code, msg            string
	}{
		{"id not a uuid", "GET", "/v1/items/42", 400, codeInvalidID, "UUID"},
		{"id with braces", "GET", "/v1/items/{01a229a6-8db1-791e-bd68-2e4bdb8501ad}", 400, codeInvalidID, "UUID"},
		{"unknown id", "GET", "/v1/items/01a229a6-8db1-791e-bd68-2e4bdb8501ad", 404, codeNotFound, "item not found"},
		{"delete bad id", "DELETE", "/v1/items/nope", 400, codeInvalidID, "UUID"},
		{"limit zero", "GET", "/v1/items?limit=0", 400, codeInvalidQuery, "limit"},
		{"limit too big", "GET", "/v1/items?limit=101", 400, codeInvalidQuery, "1 to 100"},
		{"limit not a number", "GET", "/v1/items?limit=ten", 400, codeInvalidQuery, "limit"},
		{"after not a uuid", "GET", "/v1/items?after=xyz", 400, codeInvalidQuery, "after"},
		{"after an item id, not a cursor", "GET", "/v1/items?after=01a229a6-8db1-791e-bd68-2e4bdb8501ad", 400, codeInvalidQuery, "next_after cursor"},
		{"unknown parameter", "GET", "/v1/items?offset=10", 400, codeInvalidQuery, "unknown query parameter"},
		{"no such route", "GET", "/v2/things", 404, codeNotFound, "no such route"},
		{"method not allowed", "PUT", "/v1/items", 405, codeMethodNotAllowed, "method not allowed"},
		{"patch an item", "PATCH", "/v1/items/01a229a6-8db1-791e-bd68-2e4bdb8501ad", 405, codeMethodNotAllowed, "method not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assertError(t, h.do(tc.method, tc.target, "", nil), tc.status, tc.code, tc.msg)
		})
	}
}

func TestHealthAndReadiness(t *testing.T) {
	h := newHarness(t)
	if w := h.do("GET", "/healthz", "", nil); w.Code != 200 || w.Body.String() != healthzBody {
		t.Fatalf("healthz: %d %q", w.Code, w.Body)
	}
	if w := h.do("GET", "/readyz", "", nil); w.Code != 200 || !strings.Contains(w.Body.String(), `"ready"`) {
		t.Fatalf("readyz: %d %s", w.Code, w.Body)
	}
	h.draining.Store(true)
	if w := h.do("GET", "/readyz", "", nil); w.Code != 503 || !strings.Contains(w.Body.String(), "shutting down") {
		t.Fatalf("readyz while draining: %d %s", w.Code, w.Body)
	}
	if w := h.do("GET", "/healthz", "", nil); w.Code != 200 {
		t.Fatalf("healthz while draining: %d", w.Code)
	}
}

func TestTraceHeadersAndAccessLog(t *testing.T) {
	const tid = "4bf92f3577b34da6a3ce929d0e0e4736"
	tests := []struct {
		name, traceparent, requestID string
		keepTrace, keepRequestID     bool
	}{
		{"valid headers kept", "00-" + tid + "-00f067aa0ba902b7-01", "abc-123", true, true},
		{"invalid traceparent replaced", "00-" + strings.ToUpper(tid) + "-00f067aa0ba902b7-01", "ok", false, true},
		{"injection attempt replaced", "00-" + tid + "-00f067aa0ba902b7-01\r\nX: y", "evil\"},{\"level\":\"error", false, false},
		{"absent headers generated", "", "", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			r := httptest.NewRequest("GET", "/v1/items/01a229a6-8db1-791e-bd68-2e4bdb8501ad", nil)
			if tc.traceparent != "" {
				r.Header["Traceparent"] = []string{tc.traceparent}
			}
			if tc.requestID != "" {
				r.Header["X-Request-Id"] = []string{tc.requestID}
			}
			w := httptest.NewRecorder()
			h.handler.ServeHTTP(w, r)

			tp := w.Header().Get("Traceparent")
			if len(tp) != 55 || (tp[3:35] == tid) != tc.keepTrace || strings.Contains(tp, "00f067aa0ba902b7") {
				t.Fatalf("response traceparent %q (keep trace %v)", tp, tc.keepTrace)
			}
			rid := w.Header().Get("X-Request-Id")
			if (rid == tc.requestID) != tc.keepRequestID || rid == "" {
				t.Fatalf("response request id %q", rid)
			}

			lines := strings.Split(strings.TrimSpace(h.logs.String()), "\n")
			var access map[string]any
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &access); err != nil {
				t.Fatalf("log line not JSON: %q", lines[len(lines)-1])
			}
			want := map[string]any{"message": "request", "method": "GET", "route": "/v1/items/{id}", "status": float64(404),
				"trace_id": tp[3:35], "span_id": tp[36:52], "request_id": rid}
			for k, v := range want {
				if access[k] != v {
					t.Errorf("access log %s = %v, want %v", k, access[k], v)
				}
			}
			// Exactly these keys, in this order, each once (the access line is written by hand).
			keys := []string{"level", "service", "trace_id", "span_id", "parent_span_id", "request_id", "method", "route", "status",
				"bytes", "duration_ms", "remote_addr", "trace_from_client", "time", "message"}
			if !tc.keepTrace {
				keys = slices.DeleteFunc(keys, func(k string) bool { return k == "parent_span_id" })
			}
			if got := jsonKeys(t, lines[len(lines)-1]); !slices.Equal(got, keys) {
				t.Errorf("access line keys %v, want %v", got, keys)
			}
			if tc.traceparent != "" && !tc.keepTrace && strings.Contains(h.logs.String(), tc.traceparent) {
				t.Fatal("raw traceparent reached the log")
			}
			if tc.requestID != "" && !tc.keepRequestID && strings.Contains(h.logs.String(), tc.requestID) {
				t.Fatal("raw request id reached the log")
			}
		})
	}
}

// jsonKeys returns the top-level keys of one JSON object in order, failing on a duplicate key or
// anything that is not a valid object.
func jsonKeys(t *testing.T, line string) []string {
	t.Helper()
	if e := checkJSONText([]byte(line), nil); e != nil {
		t.Fatalf("%s: %s", line, e.message)
	}
	dec := json.NewDecoder(strings.NewReader(line))
	_, _ = dec.Token()
	var keys []string
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestPanicIsRecoveredWithoutLeaking(t *testing.T) {
	var logs bytes.Buffer
	logger := reqlog.New(&logs, zerolog.InfoLevel, "test")
	h := Routes(Deps{Logger: &logger, Metrics: metrics.NewHTTP(prometheus.NewRegistry())}).(*api)
	h.mux.Get("/boom", func(http.ResponseWriter, *http.Request) {
		panic("secret connection string postgres://admin:hunter2@db")
	})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/boom", nil))
	assertError(t, w, 500, codeInternal, "internal server error")
	if strings.Contains(w.Body.String(), "hunter2") {
		t.Fatal("panic value leaked to the client")
	}
	tid := w.Header().Get("Traceparent")[3:35]
	var panicLine map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err == nil && m["message"] == "handler panicked" {
			panicLine = m
		}
	}
	if panicLine == nil || panicLine["trace_id"] != tid || !strings.Contains(panicLine["stack"].(string), "httpapi") {
		t.Fatalf("panic not logged with stack and trace id: %s", logs.String())
	}
	if strings.Contains(logs.String(), "hunter2") {
		t.Fatalf("the password in the panic value reached the log: %s", logs.String())
	}
}

func FuzzDecodeStrict(f *testing.F) {
	for _, s := range []string{`{"name":"a"}`, `{"name":1}`, `{"x":1}`, `[]`, `{"name":"a"} x`, ``, `{"name":"\ud800"}`, `nul`,
		`{"name":"a","name":"b"}`, `{"NAME":"a"}`, "{\"name\":\"\xff\"}", `{"name":"\ud83d\ude00"}`, `{"name":"a","x":{"k":[1,{"k":2,"k":3}]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req createItemRequest
		e := decodeStrict(bytes.NewReader(body), 1<<10, &req)
		if e == nil {
			// Accepted bodies are valid UTF-8 holding exactly one JSON object whose only key is
			// exactly "name", once, with no lone surrogate escape.
			if !utf8.Valid(body) || loneSurrogate(body) >= 0 {
				t.Fatalf("accepted %q", body)
			}
			dec := json.NewDecoder(bytes.NewReader(body))
			if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
				t.Fatalf("accepted non-object %q", body)
			}
			for dec.More() {
				k, err := dec.Token()
				if err != nil || k != "name" {
					t.Fatalf("accepted key %v in %q", k, body)
				}
				var v json.RawMessage
				if err := dec.Decode(&v); err != nil {
					t.Fatal(err)
				}
			}
			if req.Name != nil && strings.ContainsRune(*req.Name, utf8.RuneError) &&
				!bytes.ContainsRune(body, utf8.RuneError) && !bytes.Contains(bytes.ToLower(body), []byte(`\ufffd`)) {
				t.Fatalf("accepted %q and made a replacement character of it", body)
			}
			return
		}
		if e.status != 400 && e.status != 413 {
			t.Fatalf("status %d for %q", e.status, body)
		}
		if e.code == "" || e.message == "" {
			t.Fatalf("empty error for %q", body)
		}
	})
}

func TestCheckFieldAndSurrogates(t *testing.T) {
	for _, tc := range []struct{ key, want string }{
		{"kind", ""}, {"Kind", `must be spelled "kind"`}, {"\u212aind", `must be spelled "kind"`}, {"KIN\u017f", "unknown field"},
		{"cla\u017f\u017f", `must be spelled "class"`}, {"other", `unknown field "other"`}, {strings.Repeat("x", 100), `unknown field "xxxx`},
	} {
		e := checkField(tc.key, []string{"kind", "class"})
		if (e == nil) != (tc.want == "") || e != nil && !strings.Contains(e.message, tc.want) || e != nil && len(e.message) > 100 {
			t.Errorf("checkField(%q) = %v, want %q", tc.key, e, tc.want)
		}
	}
	for in, want := range map[string]int{
		`"\ud800"`: 1, `"a\\ud800"`: -1, `"\\\ud800"`: 3, `"\ud83d\ude00"`: -1, `"\ud83d\ude00\ude00"`: 13, `"\u00e9\udbff\udfff"`: -1,
		`"\ud83dx"`: 1, `\ud800 outside a string`: -1, `"\u12"`: -1, `"\ud83d\u12"`: 1,
	} {
		if got := loneSurrogate([]byte(in)); got != want {
			t.Errorf("loneSurrogate(%s) = %d, want %d", in, got, want)
		}
	}
	type fields struct {
		A    string `json:"a,omitempty"`
		B    int
		C    bool `json:"-"`
		d    int
		Name *string `json:"name"`
	}
	if got := jsonFields(&fields{d: 1}); !slices.Equal(got, []string{"a", "B", "name"}) {
		t.Errorf("jsonFields = %v", got)
	}
}

// BenchmarkMiddlewareHealthz measures the cost of the whole middleware chain (trace context,
// request scope, access log at info, metrics, panic recovery, routing) on /healthz.
func BenchmarkMiddlewareHealthz(b *testing.B) {
	logger := reqlog.New(io.Discard, zerolog.InfoLevel, "bench")
	h := Routes(Deps{Logger: &logger, Metrics: metrics.NewHTTP(prometheus.NewRegistry()), Draining: &atomic.Bool{}, MaxBodyBytes: 1 << 20})
	r := httptest.NewRequest("GET", "/healthz", nil)
	r.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkGetItem measures GET /v1/items/{id} through the whole stack against the real
// PostgreSQL of the tests (one item, parallel clients).
func BenchmarkGetItem(b *testing.B) {
	pool := testdb.Pool(b, dbURL)
	store := items.NewStore(pool, 2*time.Second)
	it, err := store.Create(context.Background(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	logger := reqlog.New(io.Discard, zerolog.InfoLevel, "bench")
	h := Routes(Deps{Logger: &logger, Metrics: metrics.NewHTTP(prometheus.NewRegistry()), Items: store, DB: pool,
		Draining: &atomic.Bool{}, MaxBodyBytes: 1 << 20})
	target := "/v1/items/" + it.ID.String()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		r := httptest.NewRequest(http.MethodGet, target, nil)
		for pb.Next() {
			clear(w.h)
			h.ServeHTTP(w, r)
		}
	})
}

// surface is the API as a client sees it: every path shape and the methods it answers. HEAD is
// implied by GET.
var surface = []struct {
	pattern, example string
	methods          []string
}{
	{"/healthz", "/healthz", []string{"GET"}},
	{"/readyz", "/readyz", []string{"GET"}},
	{"/v1/items", "/v1/items", []string{"GET", "POST"}},
	{"/v1/items/{id}", "/v1/items/01a229a6-8db1-791e-bd68-2e4bdb8501ad", []string{"DELETE", "GET"}},
}

var allMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PROPFIND", "FOO"}

// TestHTTPSemantics: HEAD answers like GET on every GET route; every other method a route does
// not serve is 405 with an Allow header listing exactly what it serves (RFC 9110 15.5.6); a path
// that matches no route is 404 whatever the method.
func TestHTTPSemantics(t *testing.T) {
	h := newHarness(t)
	for _, rt := range surface {
		allow := append([]string{}, rt.methods...)
		if slices.Contains(allow, "GET") {
			allow = append(allow, "HEAD")
		}
		slices.Sort(allow)
		for _, m := range allMethods {
			t.Run(m+" "+rt.pattern, func(t *testing.T) {
				w := h.do(m, rt.example, "", nil)
				switch {
				case m == "HEAD":
					g := h.do("GET", rt.example, "", nil)
					if w.Code != g.Code || w.Header().Get("Content-Type") != g.Header().Get("Content-Type") {
						t.Fatalf("HEAD %s = %d %q, GET = %d %q", rt.example, w.Code, w.Header().Get("Content-Type"), g.Code, g.Header().Get("Content-Type"))
					}
				case slices.Contains(allow, m):
					if w.Code == http.StatusMethodNotAllowed || w.Code == http.StatusNotFound && rt.pattern != "/v1/items/{id}" {
						t.Fatalf("%s %s = %d", m, rt.example, w.Code)
					}
				default:
					assertError(t, w, http.StatusMethodNotAllowed, codeMethodNotAllowed, "method not allowed")
					if got := w.Header().Get("Allow"); got != strings.Join(allow, ", ") {
						t.Fatalf("Allow = %q, want %q", got, strings.Join(allow, ", "))
					}
				}
			})
		}
	}
	for _, path := range []string{"/", "/nope", "/v1", "/v1/items/", "/v1/items/x/y", "/healthz/", "//healthz", "/v2/items", "/HEALTHZ"} {
		for _, m := range allMethods {
			t.Run(m+" "+path, func(t *testing.T) {
				w := h.do(m, path, "", nil)
				assertError(t, w, http.StatusNotFound, codeNotFound, "no such route")
				if w.Header().Get("Allow") != "" {
					t.Fatalf("404 with Allow %q", w.Header().Get("Allow"))
				}
			})
		}
	}
}

// TestQueryStringIsStrict: a query string that does not parse, a repeated parameter, an empty
// value and a parameter the route does not take are refused with 400 on every route; so is one
// another method of the route takes (limit and after on a POST), before anything is written.
func TestQueryStringIsStrict(t *testing.T) {
	h := newHarness(t)
	tests := []struct{ name, target, msg string }{
		{"bad escape", "/v1/items?limit=%zz", "malformed query string"},
		{"bad escape in a key", "/v1/items?%zz=1", "malformed query string"},
		{"semicolon", "/v1/items?limit=1;after=2", "malformed query string"},
		{"repeated limit", "/v1/items?limit=1&limit=500", "repeated"},
		{"repeated after", "/v1/items?after=a&after=b", "repeated"},
		{"empty limit", "/v1/items?limit=", "limit"},
		{"unknown on list", "/v1/items?offset=10", "unknown query parameter"},
		{"empty name", "/v1/items?=1", "unknown query parameter"},
		{"unknown on healthz", "/healthz?verbose=1", "unknown query parameter"},
		{"bad escape on healthz", "/healthz?%zz", "malformed query string"},
		{"unknown on readyz", "/readyz?x", "unknown query parameter"},
		{"unknown on an item", "/v1/items/01a229a6-8db1-791e-bd68-2e4bdb8501ad?fields=name", "unknown query parameter"},
	}
	for _, tc := range tests {
		for _, m := range []string{"GET", "HEAD"} {
			t.Run(m+" "+tc.name, func(t *testing.T) {
				assertError(t, h.do(m, tc.target, "", nil), http.StatusBadRequest, codeInvalidQuery, tc.msg)
			})
		}
	}
	for _, target := range []string{"/v1/items?limit=5", "/v1/items?after=x", "/v1/items?name=x"} {
		t.Run("POST "+target, func(t *testing.T) {
			w := h.do("POST", target, "application/json", strings.NewReader(`{"name":"made through a query"}`))
			assertError(t, w, http.StatusBadRequest, codeInvalidQuery, "POST on this route takes none")
		})
	}
	var made int
	if err := h.pool.QueryRow(context.Background(), "SELECT count(*) FROM items").Scan(&made); err != nil || made != 0 {
		t.Fatalf("refused POSTs stored %d items (%v)", made, err)
	}
	t.Run("DELETE with a query", func(t *testing.T) {
		assertError(t, h.do("DELETE", "/v1/items/01a229a6-8db1-791e-bd68-2e4bdb8501ad?force=1", "", nil),
			http.StatusBadRequest, codeInvalidQuery, "DELETE on this route takes none")
	})
	if w := h.do("GET", "/v1/items?limit=5", "", nil); w.Code != 200 {
		t.Fatalf("a good query refused: %d %s", w.Code, w.Body)
	}
	if w := h.do("GET", "/healthz?", "", nil); w.Code != 200 {
		t.Fatalf("an empty query refused: %d %s", w.Code, w.Body)
	}
}

// TestBodyOnlyWhereOneIsRead: a body sent with a method that reads none (GET, HEAD, DELETE),
// with a length or chunked, is refused with 400 before the handler runs, so a DELETE with a
// body deletes nothing; and a POST whose Content-Type is given twice (net/http would read the
// first, a proxy the last) is refused and stores nothing.
func TestBodyOnlyWhereOneIsRead(t *testing.T) {
	h := newHarness(t)
	made := h.do(http.MethodPost, "/v1/items", jsonCT, strings.NewReader(`{"name":"kept"}`))
	if made.Code != http.StatusCreated {
		t.Fatalf("create = %d %s", made.Code, made.Body)
	}
	var item struct{ ID string }
	if err := json.Unmarshal(made.Body.Bytes(), &item); err != nil {
		t.Fatal(err)
	}
	targets := map[string][]string{
		http.MethodGet:    {"/healthz", "/readyz", "/v1/items", "/v1/items/" + item.ID},
		http.MethodHead:   {"/healthz", "/v1/items"},
		http.MethodDelete: {"/v1/items/" + item.ID},
	}
	for method, paths := range targets {
		for _, path := range paths {
			for _, chunked := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s %s chunked=%v", method, path, chunked), func(t *testing.T) {
					r := httptest.NewRequest(method, path, strings.NewReader(`{"id":"x"}`))
					r.Header.Set("Content-Type", jsonCT)
					if chunked {
						r.ContentLength, r.TransferEncoding = -1, []string{"chunked"}
					}
					w := httptest.NewRecorder()
					h.handler.ServeHTTP(w, r)
					assertError(t, w, http.StatusBadRequest, codeBadRequest, method+" on this route takes no body")
				})
			}
		}
	}
	if w := h.do(http.MethodGet, "/v1/items/"+item.ID, "", nil); w.Code != http.StatusOK {
		t.Fatalf("the item is gone after refused DELETEs: %d %s", w.Code, w.Body)
	}
	t.Run("Content-Type twice", func(t *testing.T) {
		before := h.count(t)
		r := httptest.NewRequest(http.MethodPost, "/v1/items", strings.NewReader(`{"name":"two types"}`))
		r.Header.Add("Content-Type", jsonCT)
		r.Header.Add("Content-Type", "text/plain")
		w := httptest.NewRecorder()
		h.handler.ServeHTTP(w, r)
		assertError(t, w, http.StatusBadRequest, codeBadRequest, "Content-Type given more than once")
		if after := h.count(t); after != before {
			t.Fatalf("refused request changed the table: %d -> %d rows", before, after)
		}
	})
}

// TestSurfaceIsTheRouteTable keeps TestHTTPSemantics honest: it covers every route Routes maps.
func TestSurfaceIsTheRouteTable(t *testing.T) {
	a := Routes(Deps{}).(*api)
	var got, want []string
	for _, rt := range a.routes {
		var ms []string
		for m := range rt.methods {
			if m != http.MethodHead {
				ms = append(ms, m)
			}
		}
		slices.Sort(ms)
		got = append(got, rt.pattern+" "+strings.Join(ms, ","))
	}
	for _, s := range surface {
		want = append(want, s.pattern+" "+strings.Join(s.methods, ","))
		rctx := chi.NewRouteContext()
		if !a.mux.Match(rctx, s.methods[0], s.example) || rctx.RoutePattern() != s.pattern {
			t.Errorf("%s does not reach %s", s.example, s.pattern)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("routes %v, the test covers %v", got, want)
	}
}

// TestCreateRefusesInputThatIsNotWhatItClaims: bytes that are not UTF-8, \u escapes that are not
// characters (lone surrogates), an object with the same key twice (also when spelled with
// escapes) and keys that only match a field when case is ignored are refused, not repaired or
// resolved silently. Each leaves the table as it was.
func TestCreateRefusesInputThatIsNotWhatItClaims(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name, body string
		code, msg  string
	}{
		{"invalid utf-8 in a value", "{\"name\":\"a\xffb\"}", codeInvalidJSON, "not valid UTF-8"},
		{"invalid utf-8 in a key", "{\"na\xc3me\":\"a\"}", codeInvalidJSON, "not valid UTF-8"},
		{"overlong utf-8", "{\"name\":\"\xc0\xafx\"}", codeInvalidJSON, "not valid UTF-8"},
		{"utf-8 encoded surrogate", "{\"name\":\"\xed\xa0\x80\"}", codeInvalidJSON, "not valid UTF-8"},
		{"truncated utf-8 at the end", "{\"name\":\"a\"}\xe2\x82", codeInvalidJSON, "not valid UTF-8"},
		{"lone high surrogate", `{"name":"\ud800"}`, codeInvalidJSON, "surrogate"},
		{"lone low surrogate", `{"name":"a\udc00b"}`, codeInvalidJSON, "surrogate"},
		{"high surrogate then a letter", `{"name":"\ud83d\u0041"}`, codeInvalidJSON, "surrogate"},
		{"high surrogate at the end", `{"name":"x\uD83D"}`, codeInvalidJSON, "surrogate"},
		{"two high surrogates", `{"name":"\ud83d\ud83d\ude00"}`, codeInvalidJSON, "surrogate"},
		{"surrogate in a key", `{"\ud800":"a","name":"b"}`, codeInvalidJSON, "surrogate"},
		{"duplicate key", `{"name":"a","name":"b"}`, codeInvalidJSON, `duplicate key "name"`},
		{"duplicate key by escape", `{"name":"a","n\u0061me":"b"}`, codeInvalidJSON, `duplicate key "name"`},
		{"duplicate key nested", `{"name":"a","x":{"k":1,"k":2}}`, codeInvalidJSON, `duplicate key "k"`},
		{"upper-case key", `{"NAME":"a"}`, codeInvalidField, `field "NAME" must be spelled "name"`},
		{"title-case key", `{"Name":"a"}`, codeInvalidField, `must be spelled "name"`},
		{"case variant beside the key", `{"name":"a","nAmE":"b"}`, codeInvalidField, `must be spelled "name"`},
		{"escaped case variant", `{"N\u0041ME":"a"}`, codeInvalidField, `must be spelled "name"`},
		{"nested too deeply", `{"name":"a","x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, codeInvalidJSON, "nested too deeply"},
		{"byte order mark", "\ufeff{\"name\":\"a\"}", codeInvalidJSON, "malformed JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := h.count(t)
			assertError(t, h.do(http.MethodPost, "/v1/items", jsonCT, strings.NewReader(tc.body)), http.StatusBadRequest, tc.code, tc.msg)
			if after := h.count(t); after != before {
				t.Fatalf("refused request changed the table: %d -> %d rows", before, after)
			}
		})
	}
	// The good twins: a surrogate pair, escaped characters and non-ASCII text are fine.
	for _, body := range []string{`{"name":"\ud83d\ude00 grin"}`, `{"name":"caf\u00e9 \"quoted\" \\ back"}`, `{"name":"日本語 ü"}`} {
		if w := h.do(http.MethodPost, "/v1/items", jsonCT, strings.NewReader(body)); w.Code != http.StatusCreated {
			t.Errorf("%s refused: %d %s", body, w.Code, w.Body)
		}
	}
}

// TestPaginationLosesNothingUnderConcurrentCreates: writers create items in parallel while a
// follower pages through the list with next_after, and goes on from its last cursor after the
// writers stop until a page comes back empty. Most writers go through the API, more of them than
// the pool has connections (ids are minted long before their rows commit); a few write in slow
// transactions (a pause between INSERT and COMMIT, as a synchronous commit waiting on a replica
// makes), so that rows become visible far out of the order of their ids and transaction ids.
// The guarantee of the API: every item committed before a page was requested and positioned at
// or before the cursor that page returned has been seen, by that page or an earlier one; and so,
// at the end, every item exactly once, in order.
func TestPaginationLosesNothingUnderConcurrentCreates(t *testing.T) {
	h := newHarnessOn(t, dbURL+"&pool_max_conns=6")
	slowPool := testdb.Pool(t, dbURL) // the slow writers' own: they must not starve the API
	const apiWriters, perWriter, slowWriters, pageSize = 12, 40, 4, 20
	type created struct {
		id   string
		done time.Time // the create returned: the row is committed
	}
	var (
		mu      sync.Mutex
		creates []created
		wg      sync.WaitGroup
	)
	record := func(id string) {
		mu.Lock()
		creates = append(creates, created{id, time.Now()})
		mu.Unlock()
	}
	var apiWG sync.WaitGroup
	apiDone := make(chan struct{})
	for w := range apiWriters {
		apiWG.Add(1)
		go func() {
			defer apiWG.Done()
			for i := range perWriter {
				rec := h.do(http.MethodPost, "/v1/items", jsonCT, strings.NewReader(fmt.Sprintf(`{"name":"w%d-%d"}`, w, i)))
				if rec.Code != http.StatusCreated {
					t.Errorf("create: %d %s", rec.Code, rec.Body)
					return
				}
				var it items.Item
				_ = json.Unmarshal(rec.Body.Bytes(), &it)
				record(it.ID.String())
			}
		}()
	}
	go func() { apiWG.Wait(); close(apiDone) }()
	for w := range slowWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := 0; ; i++ {
				select {
				case <-apiDone:
					return
				default:
				}
				id := uuid.Must(uuid.NewV7())
				tx, err := slowPool.Begin(ctx)
				if err == nil {
					_, err = tx.Exec(ctx, `INSERT INTO items (id, name) VALUES ($1, $2)`, [16]byte(id), fmt.Sprintf("slow%d-%d", w, i))
				}
				if err == nil {
					_, err = tx.Exec(ctx, `SELECT pg_sleep($1)`, float64(2+(w*7+i*3)%20)/1000)
				}
				if err == nil {
					err = tx.Commit(ctx)
				}
				if err != nil {
					t.Errorf("slow create: %v", err)
					return
				}
				record(id.String())
			}
		}()
	}
	writing := make(chan struct{})
	go func() { apiWG.Wait(); wg.Wait(); close(writing) }()

	type page struct {
		started time.Time
		cursor  string // next_after of the page ("" when empty)
		seen    int    // items seen up to and including this page
	}
	var (
		seen   []string
		pages  []page
		after  string
		during int
	)
	for done := false; ; {
		select {
		case <-writing:
			done = true
		default:
		}
		target := fmt.Sprintf("/v1/items?limit=%d", pageSize)
		if after != "" {
			target += "&after=" + after
		}
		started := time.Now()
		rec := h.do(http.MethodGet, target, "", nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("list: %d %s", rec.Code, rec.Body)
		}
		var p struct {
			Items     []items.Item `json:"items"`
			NextAfter string       `json:"next_after"`
			HasMore   bool         `json:"has_more"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			seen = append(seen, it.ID.String())
		}
		if (p.NextAfter == "") != (len(p.Items) == 0) || p.HasMore && len(p.Items) < pageSize {
			t.Fatalf("page of %d items with next_after %q, has_more %v", len(p.Items), p.NextAfter, p.HasMore)
		}
		pages = append(pages, page{started, p.NextAfter, len(seen)})
		if !done {
			during++
		}
		if p.NextAfter != "" {
			after = p.NextAfter
		} else if done {
			break
		}
	}
	if t.Failed() {
		return
	}
	if during < 10 {
		t.Fatalf("only %d pages were read while the writers ran: the test did not race", during)
	}

	// Positions in the list order, from the database, for the per-page check.
	pos := map[string]int{}
	rows, err := h.pool.Query(context.Background(), `SELECT id::text FROM items ORDER BY created_xid, id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		pos[id] = len(pos)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for i, id := range seen {
		count[id]++
		if i > 0 && pos[id] <= pos[seen[i-1]] {
			t.Errorf("item %s seen out of order", id)
		}
	}
	missing := 0
	for _, c := range creates {
		if count[c.id] != 1 {
			missing++
			t.Errorf("item %s seen %d times", c.id, count[c.id])
		}
	}
	// The per-page guarantee: what was committed before a page was asked for and is positioned
	// at or before the page's cursor had been seen by then.
	seenBy := map[string]int{} // id -> the number of items seen when it was seen
	for i, id := range seen {
		seenBy[id] = i + 1
	}
	for _, p := range pages {
		if p.cursor == "" {
			continue
		}
		last := pos[seen[p.seen-1]]
		for _, c := range creates {
			if c.done.Before(p.started) && pos[c.id] <= last && (seenBy[c.id] == 0 || seenBy[c.id] > p.seen) {
				t.Errorf("item %s committed before a page and before its cursor was not seen by it", c.id)
			}
		}
	}
	t.Logf("%d items created by %d writers, %d pages (%d while writing), %d missing", len(creates), apiWriters+slowWriters, len(pages), during, missing)
}

// TestItemEncodingMatchesEncodingJSON holds the hand-written item encoding to encoding/json's
// bytes, for the names the policy admits and for every escape encoding/json makes.
func TestItemEncodingMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 12, 2, 7, 16, 27, 123456000, time.UTC)
	for _, name := range []string{"alpha", `quote " back \ slash`, "<script>&amp;</script>", "ctl \x00\x01\x08\x0c\x1f\t\n\r\x7f",
		"é 日本 😀 👨\u200d👩", "\u2028\u2029", "bad \xff\xfe utf8", "", strings.Repeat("é", 200)} {
		for _, ts := range []time.Time{at, at.Truncate(time.Second), time.Date(2026, 1, 1, 0, 0, 0, 1, time.UTC)} {
			it := items.Item{ID: uuid.MustParse("01a235cc-92b4-7d26-b2a5-4dc71d807013"), Name: name, CreatedAt: ts}
			want, _ := json.Marshal(it)
			if got := appendItem(nil, it); string(got) != string(want) {
				t.Errorf("appendItem(%q)\n got %s\nwant %s", name, got, want)
			}
		}
	}
	list := []items.Item{{ID: uuid.MustParse("01a235cc-92b4-7d26-b2a5-4dc71d807013"), Name: "a", CreatedAt: at}, {ID: uuid.New(), Name: "b<", CreatedAt: at}}
	for _, tc := range []listItemsResponse{{Items: list, NextAfter: "AAAAAAAABAoBojXQf796F41K2gd4P6vK", HasMore: true}, {Items: list[:1], NextAfter: "x"}, {Items: []items.Item{}}} {
		want, _ := json.Marshal(tc)
		if got := appendItemList(nil, tc.Items, tc.NextAfter, tc.HasMore); string(got) != string(want) {
			t.Errorf("appendItemList\n got %s\nwant %s", got, want)
		}
	}
}

func FuzzItemEncoding(f *testing.F) {
	f.Add("alpha", int64(0))
	f.Add("<\u2028\xff\"", int64(1234567891))
	f.Fuzz(func(t *testing.T, name string, ns int64) {
		it := items.Item{ID: uuid.New(), Name: name, CreatedAt: time.Unix(1_800_000_000, ns%1e9).UTC()}
		want, err := json.Marshal(it)
		if err != nil {
			t.Skipf("encoding/json refuses this item (%v): no reference bytes to compare with", err)
		}
		if got := appendItem(nil, it); string(got) != string(want) {
			t.Fatalf("appendItem(%q)\n got %s\nwant %s", name, got, want)
		}
	})
}

// TestAppendJSONStringIsEncodingJSON: the service's one JSON string writer (item bodies, the
// access line's remote address) writes exactly what encoding/json writes, byte for byte.
func TestAppendJSONStringIsEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "127.0.0.1:8080", "[fe80::1%eth0]:80", `quote " and \ backslash`,
		"ctl \x00\x01\x1f\t\n\r\b\f", "é ü 日本", "bad \xff\xfe utf8", "\u2028\u2029", "<a href='x'>&amp;</a>"} {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("appendJSONString(%q) = %s, encoding/json writes %s", s, got, want)
		}
	}
}
