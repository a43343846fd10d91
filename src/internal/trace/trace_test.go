package trace

import (
	"strings"
	"testing"
)

func TestParseTraceparent(t *testing.T) {
	const (
		tid = "4bf92f3577b34da6a3ce929d0e0e4736"
		pid = "00f067aa0ba902b7"
	)
	tests := []struct {
		name   string
		header string
		ok     bool
		flags  byte
	}{
		{"valid sampled", "00-" + tid + "-" + pid + "-01", true, 1},
		{"valid not sampled", "00-" + tid + "-" + pid + "-00", true, 0},
		{"future version exact length", "cc-" + tid + "-" + pid + "-01", true, 1},
		{"future version with extra field", "cc-" + tid + "-" + pid + "-01-what-the-future-holds", true, 1},
		{"empty", "", false, 0},
		{"too short", "00-" + tid + "-" + pid + "-0", false, 0},
		{"version 00 with trailing data", "00-" + tid + "-" + pid + "-01-extra", false, 0},
		{"future version, trailing data without dash", "cc-" + tid + "-" + pid + "-01x", false, 0},
		{"version ff forbidden", "ff-" + tid + "-" + pid + "-01", false, 0},
		{"version not hex", "0g-" + tid + "-" + pid + "-01", false, 0},
		{"uppercase trace id", "00-" + strings.ToUpper(tid) + "-" + pid + "-01", false, 0},
		{"all-zero trace id", "00-" + strings.Repeat("0", 32) + "-" + pid + "-01", false, 0},
		{"all-zero parent id", "00-" + tid + "-" + strings.Repeat("0", 16) + "-01", false, 0},
		{"short trace id", "00-" + tid[:31] + "-" + pid + "-01x", false, 0},
		{"bad separator", "00_" + tid + "-" + pid + "-01", false, 0},
		{"non-hex parent", "00-" + tid + "-" + "00f067aa0ba902bz" + "-01", false, 0},
		{"non-hex flags", "00-" + tid + "-" + pid + "-0z", false, 0},
		{"newline injection", "00-" + tid + "-" + pid + "-01\n{\"level\":\"error\"}", false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			traceID, parent, flags, ok := ParseTraceparent(tc.header)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				if !traceID.IsZero() || !parent.IsZero() {
					t.Fatalf("invalid header leaked ids: %s %s", traceID, parent)
				}
				return
			}
			if traceID.String() != tid || parent.String() != pid || flags != tc.flags {
				t.Fatalf("got %s %s %02x", traceID, parent, flags)
			}
		})
	}
}

func TestFromHeaderKeepsTraceAndMintsSpan(t *testing.T) {
	in := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	c, valid := FromHeader(in)
	if !valid {
		t.Fatal("valid header reported invalid")
	}
	if c.TraceID.String() != "4bf92f3577b34da6a3ce929d0e0e4736" || c.ParentID.String() != "00f067aa0ba902b7" {
		t.Fatalf("ids not kept: %+v", c)
	}
	if c.SpanID.IsZero() || c.SpanID == c.ParentID {
		t.Fatalf("span id not minted: %s", c.SpanID)
	}
	out := c.Traceparent()
	if !strings.HasPrefix(out, "00-4bf92f3577b34da6a3ce929d0e0e4736-") || strings.Contains(out, "00f067aa0ba902b7") || !strings.HasSuffix(out, "-01") {
		t.Fatalf("response traceparent = %q", out)
	}
	if _, _, _, ok := ParseTraceparent(out); !ok {
		t.Fatalf("own traceparent does not parse: %q", out)
	}
}

func TestFromHeaderStartsNewTraceWhenInvalid(t *testing.T) {
	for _, h := range []string{"", "garbage", "00-" + strings.Repeat("0", 32) + "-00f067aa0ba902b7-01"} {
		c, valid := FromHeader(h)
		if valid || c.TraceID.IsZero() || c.SpanID.IsZero() || !c.ParentID.IsZero() || c.Flags != FlagSampled {
			t.Fatalf("FromHeader(%q) = %+v, %v", h, c, valid)
		}
	}
	a, _ := FromHeader("")
	b, _ := FromHeader("")
	if a.TraceID == b.TraceID {
		t.Fatal("two new traces share an id")
	}
}

func TestRequestID(t *testing.T) {
	tests := []struct {
		in   string
		keep bool
	}{
		{"abc-123", true},
		{"req_1.2:3", true},
		{strings.Repeat("a", 64), true},
		{strings.Repeat("a", 65), false},
		{"", false},
		{"has space", false},
		{"new\nline", false},
		{`quote"`, false},
		{"émoji", false},
		{"<script>", false},
	}
	for _, tc := range tests {
		got := RequestID(tc.in, "00f067aa0ba902b7")
		if tc.keep != (got == tc.in) || !tc.keep && got != "00f067aa0ba902b7" {
			t.Errorf("RequestID(%q) = %q, keep=%v", tc.in, got, tc.keep)
		}
		if !ValidRequestID(got) {
			t.Errorf("RequestID(%q) returned an invalid id %q", tc.in, got)
		}
	}
}

func FuzzParseTraceparent(f *testing.F) {
	for _, seed := range []string{
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future",
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
		"", "00-", "\x00\xff",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		traceID, parent, flags, ok := ParseTraceparent(s)
		if !ok {
			return
		}
		if traceID.IsZero() || parent.IsZero() {
			t.Fatalf("accepted zero id in %q", s)
		}
		// A parsed header re-encodes to the same first 55 bytes (lowercase hex, same ids).
		c := Context{TraceID: traceID, SpanID: parent, Flags: flags}
		if got := c.Traceparent(); got[3:] != s[3:headerLen] {
			t.Fatalf("round trip: %q -> %q", s, got)
		}
	})
}

func BenchmarkFromHeader(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		c, _ := FromHeader("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
		_ = c.Traceparent()
	}
}
