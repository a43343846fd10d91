package reqlog

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

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
