// Package httpapi holds the service's HTTP surface: routes, handlers, middleware (trace context,
// access log, metrics, panic recovery) and the JSON request and error conventions.
package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
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

// route is one entry of the API surface: a chi pattern and what each method serves there.
type route struct {
	pattern string
	methods map[string]endpoint
}

// endpoint is a method's handler on a route, the query parameters it takes (none unless
// listed: a parameter means something to one method only, so another method refuses it) and
// whether it reads a body (only those that do may be sent one).
type endpoint struct {
	handler http.Handler
	query   []string
	body    bool
}

// Routes maps the whole API surface.
//
//	GET    /healthz          liveness: 200 while the process serves
//	GET    /readyz           readiness: 200 when the database answers and not draining, else 503
//	POST   /v1/items         create an item: {"name": "..."} -> 201 {id, name, created_at}
//	GET    /v1/items         list items: ?limit=1..100&after=<cursor> (keyset pagination)
//	GET    /v1/items/{id}    one item
//	DELETE /v1/items/{id}    delete an item -> 204
//
// HEAD is answered wherever GET is. A path that matches no route is 404 whatever the method; a
// method a route does not serve is 405 with an Allow header; a query string that does not parse,
// a repeated or empty parameter or one the method does not take on that route (limit on a POST)
// is 400, and so is a body sent with a method that reads none (GET, HEAD, DELETE).
func Routes(d Deps) http.Handler {
	routes := []route{
		{"/healthz", map[string]endpoint{http.MethodGet: {healthz(), nil, false}}},
		{"/readyz", map[string]endpoint{http.MethodGet: {readyz(d.DB, d.Draining, d.ReadyTimeout), nil, false}}},
		{"/v1/items", map[string]endpoint{
			http.MethodGet:  {listItems(d.Items), []string{"limit", "after"}, false},
			http.MethodPost: {createItem(d.Items, d.MaxBodyBytes), nil, true},
		}},
		{"/v1/items/{id}", map[string]endpoint{
			http.MethodGet:    {getItem(d.Items), nil, false},
			http.MethodDelete: {deleteItem(d.Items), nil, false},
		}},
	}
	mux := chi.NewRouter()
	for _, rt := range routes {
		if get, ok := rt.methods[http.MethodGet]; ok {
			rt.methods[http.MethodHead] = get // net/http sends a HEAD answer's headers, not its body
		}
		for m, e := range rt.methods {
			mux.Method(m, rt.pattern, withRequestShape(e, e.handler))
		}
	}
	notFound := errorHandler(&apiError{http.StatusNotFound, codeNotFound, "no such route"})
	mux.NotFound(notFound)
	mux.MethodNotAllowed(methodNotAllowed(mux, notFound))
	return &api{
		log:     d.Logger,
		metrics: d.Metrics,
		mux:     mux,
		routes:  routes,
		rctx:    sync.Pool{New: func() any { return chi.NewRouteContext() }},
	}
}

// api is the middleware around every request (ServeHTTP in middleware.go), then chi.
type api struct {
	log     *zerolog.Logger
	metrics *metrics.HTTP
	mux     *chi.Mux
	routes  []route
	// rctx recycles chi's routing contexts: the middleware hands chi one in the request's
	// context, so that chi does not copy the request again to add its own.
	rctx sync.Pool
}

// methodNotAllowed answers 405 with an Allow header listing what the path serves (RFC 9110
// 15.5.6), asked of the router itself. chi sends every method it does not know here, so a path
// that serves no method at all is a 404.
func methodNotAllowed(mux *chi.Mux, notFound http.HandlerFunc) http.HandlerFunc {
	e := &apiError{http.StatusMethodNotAllowed, codeMethodNotAllowed, "method not allowed on this route"}
	// The methods an Allow header may list, in its order.
	methods := []string{http.MethodDelete, http.MethodGet, http.MethodHead, http.MethodOptions,
		http.MethodPatch, http.MethodPost, http.MethodPut, http.MethodTrace}
	return func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.RawPath
		if path == "" {
			path = r.URL.Path
		}
		var allow []string
		for _, m := range methods {
			if mux.Match(chi.NewRouteContext(), m, path) {
				allow = append(allow, m)
			}
		}
		if len(allow) == 0 {
			notFound.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, r, e)
	}
}

// withRequestShape refuses, before h runs, what the endpoint would otherwise ignore: a query
// string that does not parse (a bad %-escape, a ';' separator), a parameter the route does not
// take, a repeated parameter and an empty value; and a body sent to a method that reads none (a
// DELETE with a body, a GET with one: a proxy in front may read it as the start of the next
// request). Ignoring any of them would answer a question the client did not ask.
func withRequestShape(e endpoint, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			if err := checkQuery(r.URL.RawQuery, r.Method, e.query); err != nil {
				writeError(w, r, err)
				return
			}
		}
		if !e.body && r.ContentLength != 0 {
			// ContentLength is -1 for a chunked body or an HTTP/2 stream that carries data.
			writeError(w, r, &apiError{http.StatusBadRequest, codeBadRequest, r.Method + " on this route takes no body"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

func checkQuery(raw, method string, allowed []string) *apiError {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return &apiError{http.StatusBadRequest, codeInvalidQuery, "malformed query string"}
	}
	for k, vs := range q {
		switch {
		case !slices.Contains(allowed, k):
			if len(allowed) == 0 {
				return &apiError{http.StatusBadRequest, codeInvalidQuery, "unknown query parameter (" + method + " on this route takes none)"}
			}
			return &apiError{http.StatusBadRequest, codeInvalidQuery, "unknown query parameter (use " + strings.Join(allowed, " and ") + ")"}
		case len(vs) > 1:
			return &apiError{http.StatusBadRequest, codeInvalidQuery, "query parameter " + k + " is repeated"}
		case vs[0] == "":
			return &apiError{http.StatusBadRequest, codeInvalidQuery, "query parameter " + k + " is empty"}
		}
	}
	return nil
}

func errorHandler(e *apiError) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { writeError(w, r, e) }
}
