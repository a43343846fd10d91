// Package trace holds W3C Trace Context identifiers: parsing an incoming traceparent header,
// minting new trace and span ids, and validating request ids taken from clients.
//
// Nothing here trusts its input: a header that does not parse is reported as invalid and a new
// trace is started, so raw header bytes never travel further into the service (or its logs).
package trace

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
)

// TraceID is a W3C trace id: 16 bytes, never all zero.
type TraceID [16]byte

// SpanID is a W3C span (parent) id: 8 bytes, never all zero.
type SpanID [8]byte

// IsZero reports whether the id is all zero bytes (invalid in W3C Trace Context).
func (t TraceID) IsZero() bool { return t == TraceID{} }

// IsZero reports whether the id is all zero bytes (invalid in W3C Trace Context).
func (s SpanID) IsZero() bool { return s == SpanID{} }

// String returns the id as 32 lowercase hex characters.
func (t TraceID) String() string { return hex.EncodeToString(t[:]) }

// String returns the id as 16 lowercase hex characters.
func (s SpanID) String() string { return hex.EncodeToString(s[:]) }

// FlagSampled is the W3C "sampled" trace flag.
const FlagSampled byte = 0x01

// Context is the trace context of one request: the trace it belongs to, the caller's span (zero
// when this request started the trace), this request's own span, and the trace flags.
type Context struct {
	TraceID  TraceID
	ParentID SpanID
	SpanID   SpanID
	Flags    byte
}

// headerLen is the length of a version-00 traceparent: "00-" + 32 + "-" + 16 + "-" + 2.
const headerLen = 55

// ParseTraceparent parses a W3C traceparent header value. It accepts version 00 exactly and, as
// the specification asks, later versions when their first 55 characters have the version-00
// layout (followed by the end of the value or a '-'). Version ff, uppercase hex, an all-zero
// trace or parent id and any other deviation are rejected. ok is false for anything invalid.
func ParseTraceparent(v string) (trace TraceID, parent SpanID, flags byte, ok bool) {
	if len(v) < headerLen {
		return trace, parent, 0, false
	}
	version, vok := hexByte(v[0], v[1])
	if !vok || version == 0xff || v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return trace, parent, 0, false
	}
	if version == 0 && len(v) != headerLen {
		return trace, parent, 0, false
	}
	if len(v) > headerLen && v[headerLen] != '-' {
		return trace, parent, 0, false
	}
	if !decodeLowerHex(trace[:], v[3:35]) || !decodeLowerHex(parent[:], v[36:52]) {
		return TraceID{}, SpanID{}, 0, false
	}
	flags, fok := hexByte(v[53], v[54])
	if !fok || trace.IsZero() || parent.IsZero() {
		return TraceID{}, SpanID{}, 0, false
	}
	return trace, parent, flags, true
}

// Traceparent formats the version-00 traceparent header that describes this request's span.
func (c Context) Traceparent() string {
	var b [headerLen]byte
	b[0], b[1], b[2] = '0', '0', '-'
	hex.Encode(b[3:35], c.TraceID[:])
	b[35] = '-'
	hex.Encode(b[36:52], c.SpanID[:])
	b[52] = '-'
	hex.Encode(b[53:55], []byte{c.Flags})
	return string(b[:])
}

// FromHeader builds the trace context of a request from its traceparent header value: it keeps a
// valid incoming trace id and flags, records the caller's span as parent, and mints a new span id.
// When the header is absent or invalid it starts a new, sampled trace; valid reports which.
func FromHeader(header string) (c Context, valid bool) {
	if t, p, f, ok := ParseTraceparent(header); ok {
		return Context{TraceID: t, ParentID: p, SpanID: NewSpanID(), Flags: f}, true
	}
	return Context{TraceID: NewTraceID(), SpanID: NewSpanID(), Flags: FlagSampled}, false
}

// NewTraceID returns a random, non-zero trace id. Trace ids identify requests; they are not
// secrets, so the fast, per-goroutine-seeded generator of math/rand/v2 (ChaCha8) is used.
func NewTraceID() TraceID {
	var t TraceID
	for t.IsZero() {
		putUint64(t[:8], rand.Uint64())
		putUint64(t[8:], rand.Uint64())
	}
	return t
}

// NewSpanID returns a random, non-zero span id.
func NewSpanID() SpanID {
	var s SpanID
	for s.IsZero() {
		putUint64(s[:], rand.Uint64())
	}
	return s
}

// MaxRequestIDLen bounds an accepted X-Request-Id.
const MaxRequestIDLen = 64

// ValidRequestID reports whether a client-supplied request id is short (1 to 64 bytes) and made
// only of safe characters (ASCII letters, digits, '-', '_', '.', ':'), so it can be echoed and
// logged as is.
func ValidRequestID(id string) bool {
	if len(id) == 0 || len(id) > MaxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// RequestID returns the client's request id when it is valid, else fallback (the service uses the
// request's own span id: unique, already made, and it ties the id to the trace).
func RequestID(header, fallback string) string {
	if ValidRequestID(header) {
		return header
	}
	return fallback
}

func putUint64(b []byte, v uint64) { binary.BigEndian.PutUint64(b, v) }

func decodeLowerHex(dst []byte, s string) bool {
	for i := range dst {
		b, ok := hexByte(s[2*i], s[2*i+1])
		if !ok {
			return false
		}
		dst[i] = b
	}
	return true
}

func hexByte(hi, lo byte) (byte, bool) {
	h, ok1 := hexNibble(hi)
	l, ok2 := hexNibble(lo)
	return h<<4 | l, ok1 && ok2
}

// hexNibble decodes one lowercase hex digit; W3C Trace Context forbids uppercase.
func hexNibble(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
