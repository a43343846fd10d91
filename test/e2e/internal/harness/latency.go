package harness

import (
	"bufio"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Latencies collects request round trips by kind, safe for concurrent use.
type Latencies struct {
	mu      sync.Mutex
	samples map[string][]time.Duration
}

// Add records one round trip under a label.
func (l *Latencies) Add(label string, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.samples == nil {
		l.samples = map[string][]time.Duration{}
	}
	l.samples[label] = append(l.samples[label], d)
}

// Stats are the median and 95th percentile of a set of samples.
type Stats struct {
	N           int
	Median, P95 time.Duration
}

// Stats of one label.
func (l *Latencies) Stats(label string) Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return statsOf(l.samples[label])
}

func statsOf(s []time.Duration) Stats {
	if len(s) == 0 {
		return Stats{}
	}
	s = slices.Clone(s)
	slices.Sort(s)
	pick := func(q float64) time.Duration {
		i := int(q*float64(len(s))+0.5) - 1 // nearest rank
		return s[max(0, min(i, len(s)-1))]
	}
	return Stats{N: len(s), Median: pick(0.5), P95: pick(0.95)}
}

func (s Stats) String() string {
	return fmt.Sprintf("median %6.1f ms, p95 %6.1f ms (n=%d)", ms(s.Median), ms(s.P95), s.N)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Baseline measures the round trip of n creates that no admission webhook sees (ConfigMaps
// in the app namespace), for comparison with the creates Kyverno decides.
func (e *Env) Baseline(ctx context.Context, lat *Latencies, n int) error {
	for i := range n {
		cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": fmt.Sprintf("e2e-baseline-%d", i), "namespace": "template-api"},
			"data":     map[string]any{"k": "v"}}}
		start := time.Now()
		if _, err := e.Admin.Create(ctx, cm); err != nil {
			return err
		}
		lat.Add("baseline", time.Since(start))
		if err := e.Admin.Delete(ctx, cm); err != nil {
			return err
		}
	}
	return nil
}

var webhookMetric = regexp.MustCompile(`^apiserver_admission_webhook_admission_duration_seconds_(sum|count)\{[^}]*name="([^"]+)"[^}]*\} ([0-9.e+-]+)$`)

// WebhookMeans reads the API server's own measure of the time spent in each admission webhook
// (apiserver_admission_webhook_admission_duration_seconds): the mean per call, by webhook.
func (e *Env) WebhookMeans(ctx context.Context) (map[string]Stats, error) {
	body, err := e.Admin.Typed.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("read API server metrics: %w", err)
	}
	sums, counts := map[string]float64{}, map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := webhookMetric.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			continue
		}
		if m[1] == "sum" {
			sums[m[2]] += v
		} else {
			counts[m[2]] += v
		}
	}
	out := map[string]Stats{}
	for name, n := range counts {
		if n > 0 {
			mean := time.Duration(sums[name] / n * float64(time.Second))
			out[name] = Stats{N: int(n), Median: mean}
		}
	}
	return out, nil
}
