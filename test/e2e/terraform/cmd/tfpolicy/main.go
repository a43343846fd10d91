// Command tfpolicy judges a Terraform plan with the guardrails of policies/terraform, the same
// way the Terratest suite does: CI runs it on the real plan of each environment before apply
// (make tf-policy PLAN=plan.json ENVIRONMENT=staging).
//
//	terraform show -json tfplan > plan.json
//	tfpolicy -policies policies/terraform -plan plan.json -environment staging [-account-id 123456789012]
//
// Exit 0: no violation. Exit 1: at least one, each printed as "rule: address: reason". Exit 2:
// the plan or the policies could not be read (nothing was judged).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"time"

	"github.com/platform-template/template-api/test/e2e/terraform/policy"
)

var errViolations = errors.New("the plan violates the guardrails")

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, errViolations):
		os.Exit(1)
	default:
		fmt.Fprintln(os.Stderr, "tfpolicy:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tfpolicy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("policies", "policies/terraform", "folder of the Rego policies")
	planFile := fs.String("plan", "", "JSON of terraform show -json <planfile> (required)")
	env := fs.String("environment", "", "staging or production (empty: production's rules)")
	account := fs.String("account-id", "", "the account the plan is for (default: the plan's account_id variable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *planFile == "" {
		return errors.New("-plan is required (the JSON of terraform show -json <planfile>)")
	}
	if *env != "" && *env != "staging" && *env != "production" {
		return fmt.Errorf("-environment %q: want staging or production", *env)
	}
	if *account != "" && !regexp.MustCompile(`^[0-9]{12}$`).MatchString(*account) {
		return errors.New("-account-id must be 12 digits")
	}
	start := time.Now()
	raw, err := os.ReadFile(*planFile)
	if err != nil {
		return fmt.Errorf("read the plan: %w", err)
	}
	var plan map[string]any
	if err := json.Unmarshal(raw, &plan); err != nil {
		return fmt.Errorf("%s is not JSON (give terraform show -json <planfile>, not the binary plan): %w", *planFile, err)
	}
	engine, err := policy.Load(ctx, *dir)
	if err != nil {
		return err
	}
	violations, err := engine.Evaluate(ctx, plan, policy.Params{Environment: *env, AccountID: *account})
	if err != nil {
		return err
	}
	shown := *env
	if shown == "" {
		shown = "production (strictest; none given)"
	}
	for _, v := range violations {
		fmt.Fprintln(stdout, v)
	}
	fmt.Fprintf(stderr, "tfpolicy: %s judged by %d policy files for %s in %s: %d violation(s)\n",
		*planFile, engine.Files(), shown, time.Since(start).Round(time.Millisecond), len(violations))
	if len(violations) > 0 {
		return errViolations
	}
	return nil
}
