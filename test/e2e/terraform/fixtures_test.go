package terraform

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fixtureCase is one bad root module of testdata/terraform and how it must be refused: by a
// variable validation or precondition (plan fails with refusal in its output), or by exactly the
// named Rego denials.
type fixtureCase struct {
	dir     string
	refusal string   // substring of Terraform's error, when the plan itself must fail
	denied  []string // exact deny messages (sorted), when the plan succeeds and Rego refuses it
}

func fixtureCases() []fixtureCase {
	return []fixtureCase{
		{dir: "module-network-public-cidr", refusal: "vpc_cidr must be a network address in a private range"},
		{dir: "module-database-production-unprotected", refusal: "production requires deletion_protection = true and multi_az = true on the database"},
		{dir: "module-database-old-instance-class", refusal: "instance_class must be a current generation class"},
		{dir: "module-cluster-production-public-endpoint", refusal: "production keeps the Kubernetes API endpoint private"},
		{dir: "module-identity-wildcard-repository", refusal: "github_repository must be exactly owner/name"},
		{dir: "module-observability-never-expiring-logs", refusal: "retention_days must be a CloudWatch Logs retention value of at least 30"},
		{dir: "rds-public", denied: []string{
			"aws_db_instance.public: the database is publicly accessible (publicly_accessible = true)",
		}},
		{dir: "rds-unencrypted", denied: []string{
			"aws_db_instance.unencrypted: the database storage is not encrypted (storage_encrypted must be true)",
		}},
		{dir: "security-group-open-ssh", denied: []string{
			"aws_security_group.ssh_from_anywhere: ingress tcp 22-22 is open to 0.0.0.0/0 (only 80/443 of a load balancer may be)",
		}},
		{dir: "iam-wildcard-policy", denied: []string{
			`aws_iam_policy.admin: statement "Everything" allows every action of "*"`,
			`aws_iam_policy.admin: statement "Everything" allows write actions on every resource ("*"): *`,
			`aws_iam_policy.write_anywhere: statement "PutAnywhere" allows write actions on every resource ("*"): s3:PutObject`,
		}},
		{dir: "oidc-unpinned-trust", denied: []string{
			"aws_iam_role.ci: trust policy for GitHub OIDC (statement 0) does not pin token.actions.githubusercontent.com:sub to one repository and ref, environment or pull_request with StringEquals",
		}},
		{dir: "vpc-without-flow-logs", denied: []string{
			"aws_vpc.silent: the VPC has no flow log (add an aws_flow_log with vpc_id = aws_vpc.silent.id in the same module)",
		}},
		{dir: "log-group-unencrypted", denied: []string{
			"aws_cloudwatch_log_group.plain: the log group is not encrypted with a KMS key (kms_key_id)",
		}},
		{dir: "iam-administrator-access", denied: []string{
			"aws_iam_role_policy_attachment.admin: attaches AdministratorAccess",
		}},
		{dir: "security-group-rule-open-postgres", denied: []string{
			"aws_vpc_security_group_ingress_rule.postgres_v6: ingress tcp 5432-5432 is open to ::/0 (only 80/443 of a load balancer may be)",
		}},
		{dir: "iam-user-access-key", denied: []string{
			"aws_iam_access_key.ci: IAM users and access keys are not allowed (use roles: SSO for people, OIDC for CI)",
			"aws_iam_user.ci: IAM users and access keys are not allowed (use roles: SSO for people, OIDC for CI)",
		}},
	}
}

// TestBadFixturesRefused plans every bad fixture and asserts its refusal by message.
func TestBadFixturesRefused(t *testing.T) {
	requireTerraform(t)
	root := repoRoot(t)
	cases := fixtureCases()

	// Every fixture folder has a case, and every case a folder.
	entries, err := os.ReadDir(filepath.Join(root, "test", "e2e", "testdata", "terraform"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs, named []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	for _, tc := range cases {
		named = append(named, tc.dir)
	}
	if !reflect.DeepEqual(sortedCopy(dirs), sortedCopy(named)) {
		t.Fatalf("fixture folders %v and cases %v differ", dirs, named)
	}

	for _, tc := range cases {
		t.Run(tc.dir, func(t *testing.T) {
			t.Parallel()
			dir := stage(t, root, filepath.Join("test", "e2e", "testdata", "terraform", tc.dir))
			plan, err := planJSON(t, root, dir, nil)
			if tc.refusal != "" {
				if err == nil {
					t.Fatalf("the plan succeeded; want it refused with %q", tc.refusal)
				}
				// Terraform wraps long messages; compare with whitespace collapsed.
				if got := strings.Join(strings.Fields(err.Error()), " "); !strings.Contains(got, tc.refusal) {
					t.Fatalf("refused for another reason; want %q in:\n%v", tc.refusal, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("the plan must succeed so the policies can judge it: %v", err)
			}
			got, err := denials(context.Background(), root, plan)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.denied) {
				t.Errorf("denials:\n got %q\nwant %q", got, tc.denied)
			}
		})
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
