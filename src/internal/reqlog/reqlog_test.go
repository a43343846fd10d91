package reqlog

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/platform-template/template-api/src/internal/trace"
)

func TestScopeLoggerCarriesTraceFields(t *testing.T) {
	var buf bytes.Buffer
	base := New(&buf, zerolog.InfoLevel, "template-api")
	tc, ok := trace.FromHeader("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if !ok {
		t.Fatal("header rejected")
	}
	ctx := WithScope(context.Background(), NewScope(&base, tc, "req-1"))
	FromContext(ctx).Info().Msg("hello")

	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not JSON: %q", buf.String())
	}
	want := map[string]any{
		"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "parent_span_id": "00f067aa0ba902b7",
		"span_id": tc.SpanID.String(), "request_id": "req-1", "service": "template-api", "message": "hello", "level": "info",
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %v, want %v", k, line[k], v)
		}
	}
	if TraceID(ctx) != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("TraceID = %q", TraceID(ctx))
	}
}

func TestOutsideRequestIsSafe(t *testing.T) {
	type otherKey struct{}
	ctx := context.WithValue(context.Background(), otherKey{}, "not a scope")
	FromContext(ctx).Info().Msg("dropped")
	if ScopeFrom(ctx) != nil || TraceID(ctx) != "" {
		t.Fatal("scope found where none was set")
	}
}

func TestTimeHookWritesRFC3339Nano(t *testing.T) {
	h := &timeHook{}
	base := time.Date(2026, 12, 2, 7, 16, 27, 0, time.UTC)
	for _, d := range []time.Duration{0, 1, 10, 100 * time.Millisecond, 123456789, 999999999, time.Second, time.Second + 500*time.Microsecond, 59*time.Minute + 59*time.Second + 999999000} {
		for _, loc := range []*time.Location{time.UTC, time.FixedZone("x", 3600)} {
			tm := base.Add(d).In(loc)
			got := string(h.appendTime(nil, tm))
			want := `"` + tm.UTC().Format(time.RFC3339Nano) + `"`
			if got != want {
				t.Errorf("appendTime(%v) = %s, want %s", tm, got, want)
			}
		}
	}
}

func TestAppendMillisMatchesTheFloat(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 999, 1000, 1563824, time.Millisecond, 12 * time.Second, -1563824, 1<<62 + 7} {
		got := string(AppendMillis(nil, d))
		want := strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64)
		if d > 1<<53 {
			want = "4611686018427.387911" // beyond a float's precision: the integer form is exact
		}
		if got != want {
			t.Errorf("AppendMillis(%d) = %s, want %s", d, got, want)
		}
	}
}

type timedContext struct {
	context.Context
	at time.Time
}

func (c timedContext) LogTime() time.Time { return c.at }

// A line logged with a LogTimer context carries that time, not the clock's.
func TestTimeHookTakesTheContextsTime(t *testing.T) {
	var buf bytes.Buffer
	base := New(&buf, zerolog.InfoLevel, "svc")
	at := time.Date(2026, 12, 2, 9, 30, 0, 123456789, time.UTC)
	base.Info().Ctx(timedContext{context.Background(), at}).Msg("with")
	base.Info().Msg("without")
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	var with, without map[string]any
	if len(lines) != 2 || json.Unmarshal(lines[0], &with) != nil || json.Unmarshal(lines[1], &without) != nil {
		t.Fatalf("log: %s", buf.String())
	}
	if with["time"] != "2026-12-02T09:30:00.123456789Z" || without["time"] == with["time"] {
		t.Fatalf("times: %v / %v", with["time"], without["time"])
	}
}
