// Package metrics holds the service's Prometheus metrics: HTTP requests by route pattern, method
// and status, their durations, and the database pool's statistics.
package metrics

import (
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// NewRegistry returns a registry with the Go runtime and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// HTTP records request counts and durations. Labels are bounded: the route is the matched
// pattern (never the raw path), the method one of the standard ones or OTHER.
type HTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// series caches the children per label set: the hot path then does one map lookup
	// instead of hashing three label values in each vector.
	series sync.Map // seriesKey -> *series
}

type seriesKey struct {
	route, method string
	status        int
}

type series struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// NewHTTP registers the HTTP metrics in reg.
func NewHTTP(reg prometheus.Registerer) *HTTP {
	h := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total", Help: "HTTP requests served, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds", Help: "Time to serve HTTP requests, by route pattern, method and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "status"}),
	}
	reg.MustRegister(h.requests, h.duration)
	return h
}

// Observe records one request.
func (h *HTTP) Observe(route, method string, status int, d time.Duration) {
	k := seriesKey{route, method, status}
	v, ok := h.series.Load(k)
	if !ok {
		code := strconv.Itoa(status)
		v, _ = h.series.LoadOrStore(k, &series{
			count:    h.requests.WithLabelValues(route, method, code),
			duration: h.duration.WithLabelValues(route, method, code),
		})
	}
	s := v.(*series)
	s.count.Inc()
	s.duration.Observe(d.Seconds())
}

// RegisterPool exports the statistics of a pgx pool.
func RegisterPool(reg prometheus.Registerer, pool *pgxpool.Pool) {
	desc := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	reg.MustRegister(&poolCollector{
		pool:      pool,
		acquired:  desc("db_pool_acquired_connections", "Connections in use."),
		idle:      desc("db_pool_idle_connections", "Idle connections."),
		total:     desc("db_pool_total_connections", "Open connections."),
		max:       desc("db_pool_max_connections", "Largest pool size."),
		acquires:  desc("db_pool_acquires_total", "Successful acquires."),
		empty:     desc("db_pool_empty_acquires_total", "Acquires that had to wait for a connection."),
		canceled:  desc("db_pool_canceled_acquires_total", "Acquires canceled by their context."),
		acqWait:   desc("db_pool_acquire_seconds_total", "Time spent acquiring connections."),
		newConns:  desc("db_pool_new_connections_total", "Connections opened."),
		destroyed: desc("db_pool_closed_connections_total", "Connections closed for lifetime or idle time."),
	})
}

type poolCollector struct {
	pool                                                                                *pgxpool.Pool
	acquired, idle, total, max, acquires, empty, canceled, acqWait, newConns, destroyed *prometheus.Desc
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.acquired, c.idle, c.total, c.max, c.acquires, c.empty, c.canceled, c.acqWait, c.newConns, c.destroyed} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.acquired, float64(s.AcquiredConns()))
	gauge(c.idle, float64(s.IdleConns()))
	gauge(c.total, float64(s.TotalConns()))
	gauge(c.max, float64(s.MaxConns()))
	counter(c.acquires, float64(s.AcquireCount()))
	counter(c.empty, float64(s.EmptyAcquireCount()))
	counter(c.canceled, float64(s.CanceledAcquireCount()))
	counter(c.acqWait, s.AcquireDuration().Seconds())
	counter(c.newConns, float64(s.NewConnsCount()))
	counter(c.destroyed, float64(s.MaxLifetimeDestroyCount()+s.MaxIdleDestroyCount()))
}
