package httpapi

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/platform-template/template-api/src/internal/metrics"
	"github.com/platform-template/template-api/src/internal/redact"
	"github.com/platform-template/template-api/src/internal/reqlog"
	"github.com/platform-template/template-api/src/internal/trace"
)

// observe is the outer middleware: it takes the request's trace context from a valid
// traceparent (or starts a trace), validates X-Request-Id (or makes one), answers with both,
// puts the request scope (and its logger) in the context, and after the request writes the one
// access-log line and records the metrics. Raw header values are never logged.
func observe(base *zerolog.Logger, m *metrics.HTTP) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			tc, validTrace := trace.FromHeader(r.Header.Get("Traceparent"))
			// One allocation holds the request's scope and its response writer.
			st := &requestState{rw: statusWriter{ResponseWriter: w}}
			st.scope.Init(base, tc, trace.RequestID(r.Header.Get("X-Request-Id")))
			// Both values share one backing array; the keys are already canonical.
			vals := &[2]string{tc.Traceparent(), st.scope.RequestID}
			h := w.Header()
			h["Traceparent"] = vals[0:1:1]
			h["X-Request-Id"] = vals[1:2:2]

			r = r.WithContext(reqlog.WithScope(r.Context(), &st.scope))
			next.ServeHTTP(&st.rw, r)

			d := time.Since(start)
			route := routePattern(r)
			method := methodLabel(r.Method)
			status := st.rw.statusCode()
			m.Observe(route, method, status, d)
			ev := base.Info()
			if status >= http.StatusInternalServerError {
				ev = base.Warn()
			}
			st.scope.AddFields(ev).Str("method", method).Str("route", route).Int("status", status).Int64("bytes", st.rw.bytes).
				Dur("duration_ms", d).Str("remote_addr", r.RemoteAddr).Bool("trace_from_client", validTrace).Msg("request")
		})
	}
}

// recoverPanics turns a panic in a handler into a logged error with its stack and a 500 that
// leaks nothing. http.ErrAbortHandler keeps its meaning (abort the response).
func recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as net/http does
				panic(v)
			}
			reqlog.FromContext(r.Context()).Error().Str("panic", redact.String(fmt.Sprint(v))).Str("stack", string(debug.Stack())).Msg("handler panicked")
			if sw, ok := w.(*statusWriter); ok && sw.status != 0 {
				return // headers are out; nothing safe to add
			}
			writeError(w, r, &apiError{http.StatusInternalServerError, codeInternal, "internal server error"})
		}()
		next.ServeHTTP(w, r)
	})
}

// routePattern is the matched chi route ("/v1/items/{id}"), never the raw path, so that logs and
// metric labels stay bounded; requests that match no route are "unmatched".
func routePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		if p := rc.RoutePattern(); p != "" {
			return p
		}
	}
	return "unmatched"
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
	scope reqlog.Scope
	rw    statusWriter
}

// statusWriter records the status and the bytes written.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
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
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer (Flush, deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
