package httpapi

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/platform-template/template-api/src/internal/redact"
	"github.com/platform-template/template-api/src/internal/reqlog"
	"github.com/platform-template/template-api/src/internal/trace"
)

// ServeHTTP is the middleware around every request, then chi's routing and the route's handler.
// It takes the request's trace context from a valid traceparent (or starts a trace), validates
// X-Request-Id (or takes the span id), answers with both, puts the request scope (and its
// logger) in the context, recovers a panic, and after the request writes the one access-log
// line and records the metrics. Raw header values are never logged: only validated or generated
// values, the matched route pattern and a method from a fixed list.
func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	tc, validTrace := trace.FromHeader(r.Header.Get("Traceparent"))
	// One allocation holds the request's scope, its context, its response writer and the values
	// of the two trace headers (whose keys are already canonical).
	st := &requestState{rw: statusWriter{ResponseWriter: w, head: r.Method == http.MethodHead}}
	tp := tc.Traceparent()
	st.headers = [2]string{tp, trace.RequestID(r.Header.Get("X-Request-Id"), tp[36:52])}
	st.ctx.Init(r.Context(), a.log, tc, st.headers[1])
	h := w.Header()
	h["Traceparent"] = st.headers[0:1:1]
	h["X-Request-Id"] = st.headers[1:2:2]

	// chi's routing context rides in the same context value: chi then uses it instead of
	// copying the request once more to add its own, and sets r.Pattern on this request.
	rctx := a.rctx.Get().(*chi.Context)
	rctx.Reset()
	rctx.Routes = a.mux
	st.ctx.route = rctx
	r = r.WithContext(&st.ctx)
	serveRecovering(&st.rw, r, a.mux)
	pattern := r.Pattern
	a.rctx.Put(rctx)

	d := time.Since(start)
	if pattern == "" {
		pattern = "unmatched"
	}
	method := methodLabel(r.Method)
	status := st.rw.seenStatus()
	a.metrics.Observe(pattern, method, status, d)
	ev := a.log.Info()
	if status >= http.StatusInternalServerError {
		ev = a.log.Warn()
	}
	if ev == nil {
		return
	}
	var line [320]byte
	st.ctx.end = start.Add(d).UnixNano() // the end, from the clock reading that gave d
	ev.Ctx(&st.ctx).RawJSON("trace_id", st.accessFields(line[:0], pattern, method, status, d, r.RemoteAddr, validTrace)).Msg("request")
}

// requestContext is a request's context: the request scope (reqlog) and chi's routing context;
// and, for the access line's time, the end of the request.
type requestContext struct {
	reqlog.Context
	route *chi.Context
	end   int64 // Unix nanoseconds
}

// LogTime is the time of the access line (reqlog.LogTimer): the end of the request.
func (c *requestContext) LogTime() time.Time {
	if c.end == 0 {
		return time.Time{}
	}
	return time.Unix(0, c.end)
}

// Value answers chi's key with the routing context and asks reqlog.Context for anything else.
func (c *requestContext) Value(key any) any {
	if key == chi.RouteCtxKey {
		return c.route
	}
	return c.Context.Value(key)
}

// accessFields writes the fields of the access line after "trace_id": in one piece, because the
// access line is written for every request and zerolog spends as much on each key as on its value.
// Every value is hex, a validated request id, a constant of the service or a number; the remote
// address comes from the connection and is escaped all the same. The fields and their order are
// those of the request-scoped logger's lines (reqlog.Scope), then the request's own.
func (st *requestState) accessFields(b []byte, pattern, method string, status int, d time.Duration, remote string, validTrace bool) []byte {
	tp := st.headers[0]
	b = append(b, '"')
	b = append(b, tp[3:35]...)
	b = append(b, `","span_id":"`...)
	b = append(b, tp[36:52]...)
	if p := st.ctx.Scope.Trace.ParentID; !p.IsZero() {
		b = append(b, `","parent_span_id":"`...)
		b = hex.AppendEncode(b, p[:])
	}
	b = append(b, `","request_id":"`...)
	b = append(b, st.headers[1]...)
	b = append(b, `","method":"`...)
	b = append(b, method...)
	b = append(b, `","route":"`...)
	b = append(b, pattern...) // one of the service's own patterns, or "unmatched"
	b = append(b, `","status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	if st.rw.outcome != "" {
		b = append(b, `,"outcome":"`...)
		b = append(b, st.rw.outcome...)
		b = append(b, '"')
	}
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, st.rw.bytes, 10)
	b = append(b, `,"duration_ms":`...)
	b = reqlog.AppendMillis(b, d)
	b = append(b, `,"remote_addr":`...)
	b = appendJSONString(b, remote)
	b = append(b, `,"trace_from_client":`...)
	return strconv.AppendBool(b, validTrace)
}

// serveRecovering runs h, turning a panic into a logged error with its stack and a 500 that leaks
// nothing. http.ErrAbortHandler keeps its meaning (abort the response).
func serveRecovering(w *statusWriter, r *http.Request, h http.Handler) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as net/http does
			panic(v)
		}
		reqlog.FromContext(r.Context()).Error().Str("panic", redact.String(fmt.Sprint(v))).Str("stack", string(debug.Stack())).Msg("handler panicked")
		if w.status != 0 {
			return // headers are out; nothing safe to add
		}
		writeError(w, r, &apiError{http.StatusInternalServerError, codeInternal, "internal server error"})
	}()
	h.ServeHTTP(w, r)
}

func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// requestState is what the middleware keeps for one request.
type requestState struct {
	ctx     requestContext
	rw      statusWriter
	headers [2]string
}

// statusWriter records the status and the bytes written, and what the client saw of them.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64 // body bytes sent (none for HEAD: net/http drops them)
	head   bool
	// outcome names a request that did not end as its status says (client_timeout,
	// client_closed); undelivered
	// means the client got no response at all, whatever status was written.
	outcome     string
	undelivered bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	if !w.head {
		w.bytes += int64(n)
	}
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer (Flush, deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// seenStatus is the status the client saw: 0 when it got no response.
func (w *statusWriter) seenStatus() int {
	switch {
	case w.undelivered:
		return 0
	case w.status == 0:
		return http.StatusOK
	}
	return w.status
}
