package terraform

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/platform-template/template-api/test/internal/repo"
)

// fixtureCase is one bad root module of testdata/terraform and how it must be refused: by a
// variable validation or precondition (plan fails with refusal in its output), or by exactly the
// named Rego rules, each on its resource ("rule address").
type fixtureCase struct {
	dir     string
	refusal string   // substring of Terraform's error, when the plan itself must fail
	denied  []string // "rule address" of every violation, when the plan succeeds and Rego refuses it
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
			"database.public aws_db_instance.public",
		}},
		{dir: "rds-unencrypted", denied: []string{
			"database.unencrypted aws_db_instance.unencrypted",
		}},
		{dir: "security-group-open-ssh", denied: []string{
			"network.internet_ingress aws_security_group.ssh_from_anywhere",
		}},
		{dir: "iam-wildcard-policy", denied: []string{
			"iam.every_action aws_iam_policy.admin",
			"iam.privilege_escalation aws_iam_policy.admin",
			"iam.write_everywhere aws_iam_policy.admin",
			"iam.data_read_everywhere aws_iam_policy.write_anywhere",
			"iam.write_everywhere aws_iam_policy.write_anywhere",
		}},
		{dir: "oidc-unpinned-trust", denied: []string{
			"iam.trust_federated_subject aws_iam_role.ci",
		}},
		{dir: "vpc-without-flow-logs", denied: []string{
			"network.flow_logs aws_vpc.silent",
		}},
		{dir: "log-group-unencrypted", denied: []string{
			"logging.unencrypted aws_cloudwatch_log_group.plain",
		}},
		{dir: "iam-administrator-access", denied: []string{
			"iam.admin_managed_policy aws_iam_role_policy_attachment.admin",
		}},
		{dir: "security-group-rule-open-postgres", denied: []string{
			"network.internet_ingress aws_vpc_security_group_ingress_rule.postgres_v6",
		}},
		{dir: "iam-user-access-key", denied: []string{
			"iam.user_or_key aws_iam_access_key.ci",
			"iam.user_or_key aws_iam_user.ci",
		}},
	}
}

// TestBadFixturesRefused plans every bad fixture and asserts its refusal by message.
func TestBadFixturesRefused(t *testing.T) {
	requireTerraform(t)
	root := repo.MustRoot(t)
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
			// No environment: production's rules, the strictest; a fixture is not an environment's
			// plan, so it needs no audit trail.
			vs, err := violations(context.Background(), t, plan, "")
			if err != nil {
				t.Fatal(err)
			}
			assertRefusedBy(t, vs, tc.denied)
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
