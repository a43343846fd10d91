// Package guardrails proves, on a cluster whose node runs pods, that the platform's guardrails
// admit the good deployment and refuse the bad ones, each by the component and for the reason
// the platform promises, and that what is admitted runs as promised (rollout under Pod
// Security and every policy, NetworkPolicies enforced, fail-closed admission, self-healing,
// zero-loss rollouts). The cluster is kind, the local cluster, or an existing cluster
// (E2E_CLUSTER); see test/e2e/README.md.
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
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/platform-template/template-api/test/e2e/internal/harness"
)

// suite is what TestMain brings up once for every test of the package.
type suite struct {
	// ctx ends on Ctrl-C or SIGTERM: the tests' waits end with it, then the teardown runs.
	ctx       context.Context
	env       *harness.Env
	latencies *harness.Latencies
	// matrixRun and matrixRefused count the guardrail matrix's cases (subtests run in order).
	matrixRun, matrixRefused int
	// readyOnce records when the app first became ready; clientNSOnce makes the in-cluster
	// client's namespace once.
	readyOnce, clientNSOnce sync.Once
	// redteamRun, redteamRefused, redteamControls and redteamAdmitted count the red-team table.
	redteamRun, redteamRefused, redteamControls, redteamAdmitted int
	// audit holds the refused requests to find in the audit log, and what was measured of it
	// (audit_test.go).
	audit auditTrail
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
	s = suite{ctx: ctx, env: env, latencies: &harness.Latencies{}}
	setup := time.Since(start)
	code := m.Run()
	report(ctx, logf, setup, time.Since(start))
	teardown := time.Now()
	if err := env.Down(context.Background()); err != nil {
		logf("teardown: %v", err)
		code = 1
	}
	// Nothing may be left on the machine: a leftover fails the suite.
	if left := env.Leftovers(); len(left) > 0 {
		logf("teardown left %d things behind:", len(left))
		for _, l := range left {
			logf("  LEFTOVER %s", l)
		}
		code = 1
	} else {
		logf("teardown in %.1fs: every process the suite started is stopped, nothing left behind", time.Since(teardown).Seconds())
	}
	return code
}

// report prints the phase timings and Kyverno's admission latency.
func report(ctx context.Context, logf func(string, ...any), setup, total time.Duration) {
	fmt.Fprintf(os.Stderr, "\n== e2e report (%s cluster) ==\n", s.env.Cluster.Mode())
	fmt.Fprintf(os.Stderr, "tool builds (%s, as recorded when each was built): %s\n", s.env.Config.ToolsBin, toolBuilds())
	fmt.Fprintf(os.Stderr, "phases:\n%s", s.env.Timings)
	fmt.Fprintf(os.Stderr, "  %-34s %7.2fs\n  %-34s %7.2fs\n", "setup total", setup.Seconds(), "suite total", total.Seconds())
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
	reportAudit(ctx, os.Stderr)
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
	for _, tool := range []string{"etcd", "kube-apiserver", "kubelet", "coredns", "kube-router"} {
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
