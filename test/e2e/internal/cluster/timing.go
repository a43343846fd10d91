package cluster

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// Timings records how long each phase of a run took, in order.
type Timings struct {
	mu     sync.Mutex
	phases []Phase
}

// Phase is one timed step.
type Phase struct {
	Name     string
	Duration time.Duration
}

// Track starts timing a phase; call the returned func when it ends.
func (t *Timings) Track(name string) func() {
	start := time.Now()
	return func() { t.Add(name, time.Since(start)) }
}

// Add records a phase measured elsewhere.
func (t *Timings) Add(name string, d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.phases = append(t.phases, Phase{Name: name, Duration: d})
}

// Phases returns the recorded phases.
func (t *Timings) Phases() []Phase {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Phase(nil), t.phases...)
}

// String formats the phases as an aligned table.
func (t *Timings) String() string {
	var b strings.Builder
	for _, p := range t.Phases() {
		fmt.Fprintf(&b, "  %-34s %7.2fs\n", p.Name, p.Duration.Seconds())
	}
	return b.String()
}
