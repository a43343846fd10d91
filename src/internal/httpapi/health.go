package httpapi

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/platform-template/template-api/src/internal/reqlog"
)

// healthzBody is the exact answer of /healthz (also what the benchmark's bare server sends).
const healthzBody = `{"status":"ok"}` + "\n"

// healthz answers 200 while the process serves. It checks no dependency, so that a database
// outage never makes Kubernetes restart healthy pods.
func healthz() http.Handler {
	body := []byte(healthzBody)
	// Header values made once and shared by every answer (net/http never changes a value slice in
	// place): probes and load balancers call this path often, so it allocates nothing itself.
	contentType, cacheControl := []string{"application/json"}, []string{"no-store"}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h["Content-Type"] = contentType
		h["Cache-Control"] = cacheControl
		_, _ = w.Write(body)
	})
}

// Pinger is what readiness needs of the database.
type Pinger interface {
	Ping(ctx context.Context) error
}

// readyz answers 200 when the server is not draining and the database answers a ping within
// timeout; else 503 with the reason.
func readyz(db Pinger, draining *atomic.Bool, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if draining.Load() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "shutting down"})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		if err := db.Ping(ctx); err != nil {
			reqlog.FromContext(r.Context()).Warn().Err(err).Msg("readiness: database ping failed")
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "database unavailable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}
