package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/platform-template/template-api/test/e2e/internal/audit"
	"github.com/platform-template/template-api/test/e2e/internal/cluster"
	"github.com/platform-template/template-api/test/e2e/internal/harness"
	"github.com/platform-template/template-api/test/e2e/internal/kube"
	"github.com/platform-template/template-api/test/e2e/internal/reports"
	"github.com/platform-template/template-api/test/e2e/internal/scenario"
)

// reportWait is how long the demo waits for Kyverno's first report on the app's Deployment. The
// background scan works through every object its policies match, cluster-wide, two at a time:
// 40 s to 1 min after the deploy on an idle 2-core VM, minutes on a loaded one.
const reportWait = 3 * time.Minute

// policyReports waits for Kyverno's reports controller to report on the app's Deployment, then
// prints the app namespace's policy reports, pass and fail per policy, and every failure. If the
// scan has not reached the app in time, it says so and how to read the reports later: the
// demo's cluster is up and judged by admission either way.
func policyReports(ctx context.Context, env *harness.Env, out io.Writer) error {
	fmt.Fprintf(out, "\n== Policy reports: Kyverno's background scan of what exists in %s ==\n", scenario.Namespace)
	app := env.Base().Deployment.GetName()
	start := time.Now()
	var all []reports.Report
	wctx, cancel := context.WithTimeout(ctx, reportWait)
	defer cancel()
	err := kube.Poll(wctx, "the policy report on Deployment "+app, 2*time.Second, func(ctx context.Context) error {
		var err error
		if all, err = reports.List(ctx, env.Admin, scenario.Namespace); err != nil {
			return err
		}
		for _, r := range all {
			if r.About("Deployment", app) && len(r.Results) > 0 {
				return nil
			}
		}
		return fmt.Errorf("no report on Deployment %s yet (%d reports in the namespace)", app, len(all))
	})
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		fmt.Fprintf(out, "Kyverno's background scan has not reached Deployment %s after %s (%v).\n", app, reportWait, err)
		fmt.Fprintf(out, "It reports on every object in turn; read them later: KUBECONFIG=%s kubectl get policyreports -n %s\n",
			env.Cluster.Kubeconfig(), scenario.Namespace)
		return nil
	}
	fmt.Fprintf(out, "%d objects reported on (first report after %.0fs):\n", len(all), time.Since(start).Seconds())
	reports.Write(out, all)
	failing := reports.Failing(all)
	for _, f := range failing {
		fmt.Fprintf(out, "FAIL  %s\n", f)
	}
	if len(failing) == 0 {
		fmt.Fprintln(out, "no object of the namespace fails a policy")
	}
	return nil
}

// auditExcerpt ends the demo: who was refused, by what, how many times, from the API server's
// audit log.
func auditExcerpt(ctx context.Context, env *harness.Env, out io.Writer) error {
	r, err := env.AuditLog(ctx)
	if errors.Is(err, harness.ErrNoAuditLog) {
		fmt.Fprintf(out, "\n(%v)\n", err)
		return nil
	}
	if err != nil {
		return err
	}
	defer func() { _ = r.Close() }()
	sum, err := audit.Summarize(r)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\n== Audit log: who was refused, by what, how many times (k8s/cluster/%s) ==\n", cluster.AuditPolicyFile)
	sum.Write(out, 3)
	fmt.Fprintf(out, "%d events, %d refused requests. Every one: make demo-audit AUDIT='-grep privileged'\n", sum.Events, sum.Refused)
	return nil
}

// auditCommand is `demo audit`: the refused requests of the demo's audit log (or of a saved
// log, -file), one line each, filtered.
func auditCommand(ctx context.Context, cfg harness.Config, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("demo audit", flag.ContinueOnError)
	fs.SetOutput(out)
	var f audit.Filter
	fs.StringVar(&f.Grep, "grep", "", "only refusals whose line contains this text (case-insensitive)")
	fs.StringVar(&f.Resource, "resource", "", "only refusals of requests about this resource (e.g. pods)")
	fs.StringVar(&f.Who, "who", "", "only refusals of this user (as whom, or by whom)")
	file := fs.String("file", "", "read this audit log file instead of the running demo's (e.g. an e2e run's)")
	summary := fs.Bool("summary", false, "print who was refused, by what, how many times, instead of each refusal")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("demo audit: unexpected argument %q", fs.Arg(0))
	}
	r, err := openAuditLog(ctx, cfg, *file)
	if err != nil {
		return err
	}
	defer func() { _ = r.Close() }()
	if *summary {
		sum, err := audit.Summarize(r)
		if err != nil {
			return err
		}
		sum.Write(out, 10)
		return nil
	}
	lines, err := audit.Refusals(r, f)
	if err != nil {
		return err
	}
	for _, l := range lines {
		fmt.Fprintln(out, l)
	}
	fmt.Fprintf(out, "%d refused requests match\n", len(lines))
	return nil
}

// openAuditLog opens a saved log file, or the demo cluster's audit log.
func openAuditLog(ctx context.Context, cfg harness.Config, file string) (io.ReadCloser, error) {
	if file != "" {
		return os.Open(filepath.Clean(file))
	}
	switch cfg.Mode {
	case cluster.ModeLocal:
		return cluster.ReadSavedAuditLog(cfg.LocalOptions(nil).Dir)
	case cluster.ModeKind:
		return cluster.ReadKindAuditLog(cfg.KindOptions(nil).Name)
	default:
		return nil, harness.ErrNoAuditLog
	}
}
