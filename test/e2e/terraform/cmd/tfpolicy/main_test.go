package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const policies = "../../../../../policies/terraform"

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A plan with one database, public or not, and everything else the rules ask of it.
func dbPlan(public bool) string {
	p := "false"
	if public {
		p = "true"
	}
	return `{"format_version":"1.2","resource_changes":[{"address":"aws_db_instance.db","mode":"managed","type":"aws_db_instance",
"change":{"actions":["create"],"after_unknown":{},"after":{"engine":"postgres","engine_version":"17.4","publicly_accessible":` + p + `,
"storage_encrypted":true,"kms_key_id":"arn:aws:kms:eu-west-1:111111111111:key/k","backup_retention_period":14,"deletion_protection":true,
"skip_final_snapshot":false,"multi_az":true,"parameter_group_name":"default.postgres17"}}}],"configuration":{"root_module":{}}}`
}

func TestRun(t *testing.T) {
	good := writeFile(t, "good.json", dbPlan(false))
	bad := writeFile(t, "bad.json", dbPlan(true))
	cases := []struct {
		name       string
		args       []string
		wantErr    string // substring; "violations" for errViolations
		wantStdout string
	}{
		{name: "admitted", args: []string{"-policies", policies, "-plan", good, "-account-id", "111111111111"}},
		{name: "refused with the rule and the resource", args: []string{"-policies", policies, "-plan", bad, "-account-id", "111111111111"},
			wantErr: "violations", wantStdout: "database.public: aws_db_instance.db: the database is publicly accessible"},
		{name: "no plan", args: []string{"-policies", policies}, wantErr: "-plan is required"},
		{name: "unknown environment", args: []string{"-policies", policies, "-plan", good, "-environment", "prod"}, wantErr: `-environment "prod"`},
		{name: "bad account", args: []string{"-policies", policies, "-plan", good, "-account-id", "12345"}, wantErr: "12 digits"},
		{name: "binary plan", args: []string{"-policies", policies, "-plan", writeFile(t, "tfplan", "PK\x03\x04")}, wantErr: "is not JSON"},
		{name: "JSON that is not a plan", args: []string{"-policies", policies, "-plan", writeFile(t, "x.json", `{"a":1}`)}, wantErr: "not a plan"},
		{name: "missing file", args: []string{"-policies", policies, "-plan", filepath.Join(t.TempDir(), "none.json")}, wantErr: "read the plan"},
		{name: "no policies", args: []string{"-policies", t.TempDir(), "-plan", good}, wantErr: "no .rego policy"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.args, &stdout, &stderr)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v\n%s", err, stdout.String())
			case tc.wantErr == "violations" && !errors.Is(err, errViolations):
				t.Fatalf("want the violations error, got %v", err)
			case tc.wantErr != "" && tc.wantErr != "violations" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("want an error with %q, got %v", tc.wantErr, err)
			}
			if !strings.Contains(stdout.String(), tc.wantStdout) {
				t.Errorf("stdout %q lacks %q", stdout.String(), tc.wantStdout)
			}
			if tc.wantStdout == "" && stdout.Len() != 0 {
				t.Errorf("want no violation printed, got %q", stdout.String())
			}
		})
	}
}

// The environment changes the rules: staging accepts an unprotected database, production not.
func TestEnvironmentPicksTheRules(t *testing.T) {
	plan := writeFile(t, "p.json", strings.Replace(dbPlan(false), `"deletion_protection":true`, `"deletion_protection":false`, 1))
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"-policies", policies, "-plan", plan, "-account-id", "111111111111", "-environment", "production"}, &out, &errOut); !errors.Is(err, errViolations) || !strings.Contains(out.String(), "database.deletion_protection") {
		t.Fatalf("production: want database.deletion_protection, got %v %q", err, out.String())
	}
	out.Reset()
	// staging: no deletion-protection rule, but an environment's plan must keep its audit trail.
	err := run(context.Background(), []string{"-policies", policies, "-plan", plan, "-account-id", "111111111111", "-environment", "staging"}, &out, &errOut)
	if !errors.Is(err, errViolations) || strings.Contains(out.String(), "database.deletion_protection") || !strings.Contains(out.String(), "audit.trail_missing") {
		t.Fatalf("staging: want audit.trail_missing only, got %v %q", err, out.String())
	}
}
