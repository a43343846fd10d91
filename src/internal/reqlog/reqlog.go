// Package reqlog holds the service's loggers: the process logger (zerolog, JSON lines) and the
// request-scoped logger that carries a request's trace fields on every line written while it is
// served. The request scope travels in the context under an unexported key type.
package reqlog

import (
	"context"
	"encoding/hex"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/platform-template/template-api/src/internal/redact"
	"github.com/platform-template/template-api/src/internal/trace"
)

// New returns the process logger: JSON lines with an RFC 3339 UTC timestamp (nanoseconds,
// trailing zeros trimmed, as time.RFC3339Nano writes it).
func New(w io.Writer, level zerolog.Level, service string) zerolog.Logger {
	return zerolog.New(w).Level(level).Hook(&timeHook{}).With().Str("service", service).Logger()
}

// LogTimer is a context that tells the time of the line logged with it (zerolog's Event.Ctx); a
// zero time means "now".
type LogTimer interface {
	LogTime() time.Time
}

// timeHook adds the "time" field to every line, where zerolog's own Timestamp would: last before
// the message. It formats the date and the whole seconds once per second and keeps them, so a
// line costs only its sub-second digits (the time package's formatter was about 4% of the CPU of
// a /healthz request).
type timeHook struct {
	last atomic.Pointer[secondText]
}

type secondText struct {
	unix int64
	text []byte // `"2006-01-02T15:04:05` (with the opening quote)
}

func (h *timeHook) Run(e *zerolog.Event, _ zerolog.Level, _ string) {
	var buf [40]byte
	// A line whose event context knows its time (the access line: the end of the request, which
	// the middleware has read already) is not given another clock reading.
	t := time.Time{}
	if lt, ok := e.GetCtx().(LogTimer); ok {
		t = lt.LogTime()
	}
	if t.IsZero() {
		t = time.Now()
	}
	e.RawJSON(zerolog.TimestampFieldName, h.appendTime(buf[:0], t))
}

// appendTime appends t as a JSON string in time.RFC3339Nano layout, in UTC.
func (h *timeHook) appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	sec := t.Unix()
	st := h.last.Load()
	if st == nil || st.unix != sec {
		st = &secondText{unix: sec, text: t.AppendFormat([]byte{'"'}, "2006-01-02T15:04:05")}
		h.last.Store(st)
	}
	b = append(b, st.text...)
	if ns := t.Nanosecond(); ns != 0 {
		b = appendFraction(append(b, '.'), ns, 9)
	}
	return append(b, 'Z', '"')
}

// appendFraction appends the digits of frac (which has the given number of digits, leading zeros
// included), without trailing zeros.
func appendFraction(b []byte, frac, digits int) []byte {
	var d [9]byte
	for i := digits - 1; i >= 0; i-- {
		d[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := digits
	for n > 1 && d[n-1] == '0' {
		n--
	}
	return append(b, d[:n]...)
}

// AppendMillis appends d in milliseconds as a JSON number with up to six decimals (the
// nanoseconds), as zerolog writes a duration in milliseconds, without going through a float.
func AppendMillis(b []byte, d time.Duration) []byte {
	if d < 0 {
		b, d = append(b, '-'), -d
	}
	b = strconv.AppendInt(b, int64(d/time.Millisecond), 10)
	if frac := int(d % time.Millisecond); frac != 0 {
		b = appendFraction(append(b, '.'), frac, 6)
	}
	return b
}

func init() {
	// zerolog keeps these as package settings; they are set once, to the same values, for every
	// logger of the process: UTC RFC 3339 times with sub-second digits, durations in milliseconds.
	zerolog.TimeFieldFormat = time.RFC3339Nano // for Time fields; the line's own time is timeHook's
	zerolog.TimestampFunc = func() time.Time { return time.Now().UTC() }
	zerolog.DurationFieldUnit = time.Millisecond
	zerolog.DurationFieldInteger = false
	// Every error logged with .Err() goes through redact: a driver or library error may quote a
	// connection string or a password-bearing setting.
	zerolog.ErrorMarshalFunc = func(err error) any { return redact.Error(err) }
}

// Scope is what the service knows about the request being served: its trace context and its
// request id (validated or generated, never raw client bytes). Logger gives the logger carrying
// both; it is built on first use, so a request whose handler logs nothing pays only for the
// access line (written with AddFields, without a child logger).
type Scope struct {
	Trace     trace.Context
	RequestID string

	base   *zerolog.Logger
	once   sync.Once
	logger *zerolog.Logger
}

// NewScope builds the scope of one request from the process logger.
func NewScope(base *zerolog.Logger, tc trace.Context, requestID string) *Scope {
	s := &Scope{}
	s.Init(base, tc, requestID)
	return s
}

// Init sets up a zero Scope in place (for callers that embed one in a larger per-request value).
func (s *Scope) Init(base *zerolog.Logger, tc trace.Context, requestID string) {
	s.Trace, s.RequestID, s.base = tc, requestID, base
}

// Logger returns the request-scoped logger: the process logger with the trace fields.
func (s *Scope) Logger() *zerolog.Logger {
	s.once.Do(func() {
		lc := s.base.With().Hex("trace_id", s.Trace.TraceID[:]).Hex("span_id", s.Trace.SpanID[:])
		if !s.Trace.ParentID.IsZero() {
			lc = lc.Hex("parent_span_id", s.Trace.ParentID[:])
		}
		l := lc.Str("request_id", s.RequestID).Logger()
		s.logger = &l
	})
	return s.logger
}

// AddFields adds the trace fields to one event of the process logger, the same fields in the same
// order as Logger's lines carry. The values are hex or validated request ids: they are written as
// they are, without zerolog's escaping pass.
func (s *Scope) AddFields(e *zerolog.Event) *zerolog.Event {
	var b [2 + 2*len(trace.TraceID{})]byte
	e = e.RawJSON("trace_id", quotedHex(b[:0], s.Trace.TraceID[:])).RawJSON("span_id", quotedHex(b[:0], s.Trace.SpanID[:]))
	if !s.Trace.ParentID.IsZero() {
		e = e.RawJSON("parent_span_id", quotedHex(b[:0], s.Trace.ParentID[:]))
	}
	return e.RawJSON("request_id", Quoted(b[:0], s.RequestID))
}

func quotedHex(b, v []byte) []byte {
	b = append(b, '"')
	b = hex.AppendEncode(b, v)
	return append(b, '"')
}

// Quoted appends s as a JSON string, for values known to need no escaping (hex, validated ids,
// the service's own constants): the caller vouches for that.
func Quoted(b []byte, s string) []byte {
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

type scopeKey struct{}

// Context is a context carrying a request scope, made to be embedded in a larger per-request
// value: it saves the allocation of context.WithValue on every request. Init it, then use its
// address as the request's context.
type Context struct {
	context.Context
	Scope Scope
}

// Init sets up a zero Context over parent.
func (c *Context) Init(parent context.Context, base *zerolog.Logger, tc trace.Context, requestID string) {
	c.Context = parent
	c.Scope.Init(base, tc, requestID)
}

// Value returns the scope for the package's key and asks the parent for anything else.
func (c *Context) Value(key any) any {
	if _, ok := key.(scopeKey); ok {
		return &c.Scope
	}
	return c.Context.Value(key)
}

// WithScope returns a context carrying the request scope.
func WithScope(ctx context.Context, s *Scope) context.Context {
	return context.WithValue(ctx, scopeKey{}, s)
}

// ScopeFrom returns the request scope in ctx, or nil outside a request.
func ScopeFrom(ctx context.Context) *Scope {
	s, _ := ctx.Value(scopeKey{}).(*Scope)
	return s
}

// FromContext returns the request-scoped logger, or a logger that writes nothing outside a
// request. It never panics on a missing or foreign value.
func FromContext(ctx context.Context) *zerolog.Logger {
	if s := ScopeFrom(ctx); s != nil {
		return s.Logger()
	}
	nop := zerolog.Nop()
	return &nop
}

// TraceID returns the trace id of the request in ctx as hex, or "" outside a request.
func TraceID(ctx context.Context) string {
	if s := ScopeFrom(ctx); s != nil {
		return s.Trace.TraceID.String()
	}
	return ""
}
