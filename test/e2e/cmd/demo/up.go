package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/platform-template/template-api/test/e2e/internal/harness"
	"github.com/platform-template/template-api/test/e2e/internal/kube"
	"github.com/platform-template/template-api/test/e2e/internal/scenario"
)

func up(ctx context.Context, cfg harness.Config, out io.Writer) error {
	start := time.Now()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cfg.RelayCmd = []string{self, "relay"}
	// `make release` kept a release: the demo deploys it (its digest, its key).
	if rel := filepath.Join(cfg.Root, ".run", "release"); fileExists(filepath.Join(rel, "release.json")) {
		cfg.Release = rel
		fmt.Fprintf(out, "demo: deploying the release make release kept in %s\n", rel)
	}
	fmt.Fprintf(out, "demo: a %s cluster with a node, Kyverno and the registry installed from k8s/platform, the policies, the signed and attested app (first run: images assembled and imported, 1-2 min)\n", cfg.Mode)
	env, err := harness.Up(ctx, cfg)
	if err != nil {
		return err
	}
	applied, err := env.Deploy(ctx)
	if err != nil {
		return fmt.Errorf("the good path failed: %w", err)
	}

	fmt.Fprintf(out, "\n== Scoreboard (%s cluster, %d Kyverno policies Ready) ==\n", env.Cluster.Mode(), len(env.Policies))
	from := "signed and attested for this run"
	if cfg.Release != "" {
		from = "made by make release"
	}
	fmt.Fprintf(out, "ADMITTED  every object of k8s/overlays/kind (%d objects, server-side apply), image %s (%s)\n", len(applied), env.Images.Signed, from)
	ci, err := env.As(scenario.CIDeployer)
	if err != nil {
		return err
	}
	good := scenario.GoodDeployment(env.Base())
	if err := ci.CreateDryRun(ctx, good); err != nil {
		return fmt.Errorf("the good Deployment was refused to the CI deployer: %s", kube.Classify(err))
	}
	fmt.Fprintf(out, "ADMITTED  the good Deployment, created by the CI deployer (signed image by digest)\n")
	bad := 0
	cases := scenario.Matrix()
	for _, c := range cases {
		r := scenario.Run(ctx, env, env.Base(), c)
		if err := r.Check(); err != nil {
			bad++
			fmt.Fprintf(out, "UNEXPECTED %-66s %v\n", c.What, err)
			continue
		}
		fmt.Fprintf(out, "REFUSED   %-66s by %s: %s\n", c.What, r.Refusal.By(), oneLine(r.Refusal.Reason))
	}
	fmt.Fprintf(out, "%d bad requests, %d refused by the component and for the reason expected\n", len(cases), len(cases)-bad)

	if err := request(ctx, env, out); err != nil {
		return err
	}
	if err := policyReports(ctx, env, out); err != nil {
		return err
	}
	if err := auditExcerpt(ctx, env, out); err != nil {
		return err
	}
	fmt.Fprintf(out, "\ndemo: up in %.0fs. Try: KUBECONFIG=%s kubectl get pods -A\n", time.Since(start).Seconds(), env.Cluster.Kubeconfig())
	fmt.Fprintln(out, "demo: `make demo-down` stops everything")
	if bad > 0 {
		return fmt.Errorf("%d guardrails did not refuse as expected", bad)
	}
	return nil
}

// request waits for the app to be ready, sends one request with a traceparent through the
// app's Service from a pod in the ingress controller's namespace, and prints the app's log line
// that carries its trace id.
func request(ctx context.Context, env *harness.Env, out io.Writer) error {
	fmt.Fprintf(out, "\n== The app, running in the cluster ==\n")
	if err := env.WaitAppReady(ctx, 5*time.Minute); err != nil {
		return err
	}
	if err := env.EnsureClientNamespace(ctx); err != nil {
		return err
	}
	traceID, spanID := randomHex(16), randomHex(8)
	traceparent := "00-" + traceID + "-" + spanID + "-01"
	p := harness.Probe{Namespace: harness.ClientNamespace, Name: "demo-request", Labels: harness.ClientLabels(),
		Args: []string{"roundtrip", harness.AppURL, traceparent}}
	res, err := env.RunProbe(ctx, p)
	env.DeleteProbe(ctx, p)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "request:  from a pod in %s, through Service template-api, traceparent: %s\n", harness.ClientNamespace, traceparent)
	for _, l := range strings.Split(res, "\n") {
		if strings.HasPrefix(l, "RESULT") {
			fmt.Fprintf(out, "  %s\n", strings.TrimPrefix(l, "RESULT "))
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var lines []string
	err = kube.Poll(wctx, "the request's log line", time.Second, func(ctx context.Context) error {
		lines = env.AppLogLines(ctx, traceID)
		if len(lines) == 0 {
			return fmt.Errorf("no log line with trace id %s yet", traceID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "log line: %s\n", lines[0])
	return nil
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
