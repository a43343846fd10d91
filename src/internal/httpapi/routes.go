// Package httpapi holds the service's HTTP surface: routes, handlers, middleware (trace context,
// access log, metrics, panic recovery) and the JSON request and error conventions.
package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

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
//	GET    /v1/items         list items: ?limit=1..100&after=<cursor> (keyset pagination)
//	GET    /v1/items/{id}    one item
//	DELETE /v1/items/{id}    delete an item -> 204
//
// HEAD is answered wherever GET is. A path that matches no route is 404 whatever the method; a
// method a route does not serve is 405 with an Allow header; a query string that does not parse,
// a repeated parameter or one the route does not take is 400.
func Routes(d Deps) http.Handler {
	return &api{
		log:       d.Logger,
		metrics:   d.Metrics,
		notFound:  errorHandler(&apiError{http.StatusNotFound, codeNotFound, "no such route"}),
		unmatched: newRoute("unmatched", nil, nil),
		routes: []*route{
			newRoute("/healthz", nil, map[string]http.Handler{http.MethodGet: healthz()}),
			newRoute("/readyz", nil, map[string]http.Handler{http.MethodGet: readyz(d.DB, d.Draining, d.ReadyTimeout)}),
			newRoute("/v1/items", []string{"limit", "after"}, map[string]http.Handler{
				http.MethodGet:  listItems(d.Items),
				http.MethodPost: createItem(d.Items, d.MaxBodyBytes),
			}),
			newRoute("/v1/items/{id}", nil, map[string]http.Handler{
				http.MethodGet:    getItem(d.Items),
				http.MethodDelete: deleteItem(d.Items),
			}),
		},
	}
}

// route is one path shape: a literal path, or a literal prefix and one {name} segment at the end.
type route struct {
	pattern       string // as logged and used as the metrics label
	patternJSON   []byte // the pattern as a JSON string, for the access line
	prefix, param string // "/v1/items/", "id" for "/v1/items/{id}"; param is "" for a literal path
	query         []string
	methods       map[string]http.Handler
	allow         string       // the methods, HEAD included where GET is
	notAllowed    http.Handler // 405 with that Allow header
}

func newRoute(pattern string, query []string, methods map[string]http.Handler) *route {
	rt := &route{pattern: pattern, patternJSON: []byte(`"` + pattern + `"`), prefix: pattern, query: query, methods: methods}
	if i := strings.LastIndexByte(pattern, '/'); strings.HasPrefix(pattern[i+1:], "{") {
		rt.prefix, rt.param = pattern[:i+1], strings.Trim(pattern[i+1:], "{}")
	}
	if get, ok := methods[http.MethodGet]; ok && methods[http.MethodHead] == nil {
		methods[http.MethodHead] = get // net/http sends the headers of a HEAD answer, not its body
	}
	names := make([]string, 0, len(methods))
	for m := range methods {
		names = append(names, m)
	}
	slices.Sort(names)
	rt.allow = strings.Join(names, ", ")
	rt.notAllowed = methodNotAllowed(rt.allow)
	return rt
}

// match reports whether path has the route's shape, and the value of its {param} segment.
func (rt *route) match(path string) (string, bool) {
	if rt.param == "" {
		return "", path == rt.pattern
	}
	v, ok := strings.CutPrefix(path, rt.prefix)
	return v, ok && v != "" && !strings.Contains(v, "/")
}

// api is the router and the middleware around every request (see serveHTTP in middleware.go).
type api struct {
	log       *zerolog.Logger
	metrics   *metrics.HTTP
	routes    []*route
	notFound  http.Handler
	unmatched *route // what the log and metrics call a request no route matched
}

// find returns the route of path, or nil, and the value of its {param} segment.
func (a *api) find(path string) (*route, string) {
	for _, rt := range a.routes {
		if v, ok := rt.match(path); ok {
			return rt, v
		}
	}
	return nil, ""
}

// handler picks what answers r on route rt (nil: no route matched).
func (a *api) handler(rt *route, r *http.Request) http.Handler {
	if rt == nil {
		return a.notFound
	}
	h, ok := rt.methods[r.Method]
	if !ok {
		return rt.notAllowed
	}
	if r.URL.RawQuery != "" {
		if e := checkQuery(r.URL.RawQuery, rt.query); e != nil {
			return errorHandler(e)
		}
	}
	return h
}

// checkQuery refuses a query string that does not parse (a bad %-escape, a ';' separator), a
// parameter the route does not take, a repeated parameter and an empty value: ignoring any of them
// would answer a question the client did not ask.
func checkQuery(raw string, allowed []string) *apiError {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return &apiError{http.StatusBadRequest, codeInvalidQuery, "malformed query string"}
	}
	for k, vs := range q {
		switch {
		case !slices.Contains(allowed, k):
			if len(allowed) == 0 {
				return &apiError{http.StatusBadRequest, codeInvalidQuery, "unknown query parameter (this route takes none)"}
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

func methodNotAllowed(allow string) http.Handler {
	allowValue := []string{allow}
	e := &apiError{http.StatusMethodNotAllowed, codeMethodNotAllowed, "method not allowed on this route"}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Allow"] = allowValue
		writeError(w, r, e)
	})
}

func errorHandler(e *apiError) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeError(w, r, e) })
}
