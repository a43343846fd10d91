// Package guardrails proves, on a real API server, that the platform's guardrails admit the
// good deployment and refuse the bad ones, each by the component and for the reason the
// platform promises. The cluster is kind, a local control plane, or an existing cluster
// (E2E_CLUSTER); see README.md, "End-to-end tests and the demo".
package guardrails

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/platform-template/template-api/test/e2e/internal/harness"
)

// suite is what TestMain brings up once for every test of the package.
type suite struct {
	env       *harness.Env
	latencies *harness.Latencies
	// matrixRun and matrixRefused count the guardrail matrix's cases (subtests run in order).
	matrixRun, matrixRefused int
	// redteamRun, redteamRefused, redteamControls and redteamAdmitted count the red-team table.
	redteamRun, redteamRefused, redteamControls, redteamAdmitted int
	// skipped lists the tests skipped and why, so that the report shows them without -v.
	skipped []string
}

var s suite // set by TestMain before any test runs

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	if testing.Short() {
		fmt.Println("e2e: -short given: the end-to-end suite needs a cluster and is skipped")
		return 0
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	start := time.Now()
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "e2e: "+format+"\n", args...) }
	cfg, err := harness.FromEnv(ctx, os.Getenv)
	if err != nil {
		logf("setup: %v", err)
		return 1
	}
	cfg.Log = logf
	env, err := harness.Up(ctx, cfg)
	if err != nil {
		logf("setup failed: %v", err)
		return 1
	}
	defer func() {
		if err := env.Down(context.Background()); err != nil {
			logf("teardown: %v", err)
		}
		logf("every process the suite started is stopped")
	}()
	s = suite{env: env, latencies: &harness.Latencies{}}
	setup := time.Since(start)
	code := m.Run()
	report(ctx, logf, setup, time.Since(start))
	return code
}

// report prints the phase timings and Kyverno's admission latency.
func report(ctx context.Context, logf func(string, ...any), setup, total time.Duration) {
	fmt.Fprintf(os.Stderr, "\n== e2e report (%s cluster) ==\n", s.env.Cluster.Mode())
	fmt.Fprintf(os.Stderr, "tool builds (%s, as recorded when each was built): %s\n", s.env.Config.ToolsBin, toolBuilds())
	fmt.Fprintf(os.Stderr, "phases:\n%s", s.env.Timings)
	fmt.Fprintf(os.Stderr, "  %-34s %7.2fs\n  %-34s %7.2fs\n", "setup total", setup.Seconds(), "suite total", total.Seconds())
	for _, sk := range s.skipped {
		fmt.Fprintf(os.Stderr, "SKIPPED %s\n", sk)
	}
	fmt.Fprintf(os.Stderr, "guardrail matrix: %d bad requests run, %d refused by the expected component for the expected reason\n",
		s.matrixRun, s.matrixRefused)
	fmt.Fprintf(os.Stderr, "red-team table: %d bad requests run, %d refused as expected; %d good controls run, %d admitted\n",
		s.redteamRun, s.redteamRefused, s.redteamControls, s.redteamAdmitted)
	fmt.Fprintf(os.Stderr, "round trip of a create, client side:\n")
	fmt.Fprintf(os.Stderr, "  %-34s %s\n", "decided by Kyverno (matrix)", s.latencies.Stats("kyverno"))
	fmt.Fprintf(os.Stderr, "  %-34s %s\n", "no webhook involved (ConfigMap)", s.latencies.Stats("baseline"))
	k, b := s.latencies.Stats("kyverno"), s.latencies.Stats("baseline")
	if k.N > 0 && b.N > 0 {
		fmt.Fprintf(os.Stderr, "  %-34s median +%.1f ms, p95 +%.1f ms\n", "Kyverno adds", ms(k.Median-b.Median), ms(k.P95-b.P95))
	}
	means, err := s.env.WebhookMeans(ctx)
	if err != nil {
		logf("webhook metrics: %v", err)
		return
	}
	names := make([]string, 0, len(means))
	for n := range means {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(os.Stderr, "time in each admission webhook, API server's own metric (mean per call):\n")
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %6.1f ms  calls=%-3d %s\n", ms(means[n].Median), means[n].N, n)
	}
}

// toolBuilds reads the build durations the make targets recorded beside the tools.
func toolBuilds() string {
	var parts []string
	for _, tool := range []string{"etcd", "kube-apiserver"} {
		b, err := os.ReadFile(filepath.Join(s.env.Config.ToolsBin, tool+".build-seconds"))
		if err != nil {
			parts = append(parts, tool+" (no record)")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %ss", tool, strings.TrimSpace(string(b))))
	}
	return strings.Join(parts, ", ") + "; reused when present"
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
