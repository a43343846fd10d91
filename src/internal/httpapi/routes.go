// Package httpapi holds the service's HTTP surface: routes, handlers, middleware (trace context,
// access log, metrics, panic recovery) and the JSON request and error conventions.
package httpapi

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/platform-template/template-api/src/internal/metrics"
)

// Deps is what the API needs from the process.
type Deps struct {
	Logger       *zerolog.Logger
	Metrics      *metrics.HTTP
	Items        ItemStore
	DB           Pinger
	Draining     *atomic.Bool // set on SIGTERM: /readyz answers 503
	MaxBodyBytes int64
	ReadyTimeout time.Duration
}

// Routes maps the whole API surface.
//
//	GET    /healthz          liveness: 200 while the process serves
//	GET    /readyz           readiness: 200 when the database answers and not draining, else 503
//	POST   /v1/items         create an item: {"name": "..."} -> 201 {id, name, created_at}
//	GET    /v1/items         list items: ?limit=1..100&after=<id> (keyset pagination)
//	GET    /v1/items/{id}    one item
//	DELETE /v1/items/{id}    delete an item -> 204
func Routes(d Deps) http.Handler {
	r := chi.NewRouter()
	r.Use(observe(d.Logger, d.Metrics), recoverPanics)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, &apiError{http.StatusNotFound, codeNotFound, "no such route"})
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, &apiError{http.StatusMethodNotAllowed, codeMethodNotAllowed, "method not allowed on this route"})
	})

	r.Method(http.MethodGet, "/healthz", healthz())
	r.Method(http.MethodGet, "/readyz", readyz(d.DB, d.Draining, d.ReadyTimeout))
	r.Route("/v1/items", func(r chi.Router) {
		r.Method(http.MethodPost, "/", createItem(d.Items, d.MaxBodyBytes))
		r.Method(http.MethodGet, "/", listItems(d.Items))
		r.Method(http.MethodGet, "/{id}", getItem(d.Items))
		r.Method(http.MethodDelete, "/{id}", deleteItem(d.Items))
	})
	return r
}
