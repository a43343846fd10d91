package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/platform-template/template-api/test/e2e/internal/cluster"
	"github.com/platform-template/template-api/test/e2e/internal/harness"
	"github.com/platform-template/template-api/test/e2e/internal/kube"
	"github.com/platform-template/template-api/test/e2e/internal/scenario"
)

func up(ctx context.Context, cfg harness.Config, out io.Writer) error {
	start := time.Now()
	stopService(cfg, out) // a previous demo's service, if any: `make demo` is idempotent
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cfg.RegistryCmd = []string{self, "registry"}
	// `make release` kept a release: the demo deploys it (its digest, its key).
	if rel := filepath.Join(cfg.Root, ".run", "release"); fileExists(filepath.Join(rel, "release.json")) {
		cfg.Release = rel
		fmt.Fprintf(out, "demo: deploying the release make release kept in %s\n", rel)
	}
	if cfg.Mode == cluster.ModeLocal {
		fmt.Fprintln(out, "demo: local control plane: etcd, kube-apiserver, Kyverno and a registry as local processes (no pods run; every admission decision is real)")
	}
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
	if _, err := ci.Create(ctx, good); err != nil {
		return fmt.Errorf("the good Deployment was refused to the CI deployer: %s", kube.Classify(err))
	}
	_ = env.Admin.Delete(ctx, good)
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

	if cfg.Mode == cluster.ModeLocal {
		if err := runService(ctx, cfg, out); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "\ndemo: up in %.0fs. Try: KUBECONFIG=%s kubectl get deploy,netpol -n template-api\n",
		time.Since(start).Seconds(), env.Cluster.Kubeconfig())
	fmt.Fprintln(out, "demo: `make demo-down` stops everything")
	if bad > 0 {
		return fmt.Errorf("%d guardrails did not refuse as expected", bad)
	}
	return nil
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
