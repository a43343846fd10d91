package terraform

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/platform-template/template-api/test/internal/repo"
)

// envCase is what one environment must plan.
type envCase struct {
	env                string
	natGateways        int
	multiAZ            bool
	deletionProtection bool
	backupDays         float64
	retentionDays      float64
	// check blocks, preconditions and validations the plan reports failing (check blocks only
	// warn; a failing precondition or validation would have stopped the plan).
	failingChecks []string
}

// IAM documents that are unknown until apply, because they embed ids AWS assigns (the cluster's
// OIDC issuer, the database's resource id, a KMS key id). Each is built by an
// aws_iam_policy_document, whose statements the plan shows with only those ids unknown, and the
// Rego policies judge them there (an unknown document built any other way is refused). Any other
// unknown document fails this test, so the list stays the short one the README explains.
func unknownAtPlan() []string {
	return []string{
		"module.stack.module.identity.aws_iam_role.irsa[\"app\"].assume_role_policy",
		"module.stack.module.identity.aws_iam_role.irsa[\"external_secrets\"].assume_role_policy",
		"module.stack.module.identity.aws_iam_role_policy.app.policy",
		"module.stack.module.identity.aws_iam_role_policy.external_secrets.policy",
	}
}

func TestEnvironmentPlans(t *testing.T) {
	requireTerraform(t)
	root := repo.MustRoot(t)
	cases := []envCase{
		{env: "staging", natGateways: 1, multiAZ: false, deletionProtection: false, backupDays: 7, retentionDays: 90,
			failingChecks: []string{"module.stack.module.network.check.nat_redundancy"}},
		{env: "production", natGateways: 3, multiAZ: true, deletionProtection: true, backupDays: 30, retentionDays: 365},
	}
	for _, tc := range cases {
		t.Run(tc.env, func(t *testing.T) {
			t.Parallel()
			dir := stage(t, root, "terraform/envs/"+tc.env)
			plan, err := planJSON(t, root, dir, map[string]any{"account_id": testAccountID})
			if err != nil {
				t.Fatalf("the %s plan must succeed: %v", tc.env, err)
			}
			cs := changes(t, plan)
			t.Logf("%s: %d resources planned", tc.env, len(cs))

			t.Run("rego policies admit it", func(t *testing.T) {
				msgs, err := denials(context.Background(), t, plan, tc.env)
				if err != nil {
					t.Fatal(err)
				}
				if len(msgs) != 0 {
					t.Errorf("want no denial, got %d:\n%s", len(msgs), strings.Join(msgs, "\n"))
				}
			})
			t.Run("only the expected IAM documents are unknown at plan time", func(t *testing.T) {
				assertUnknownDocuments(t, cs)
			})
			t.Run("check blocks", func(t *testing.T) { assertChecks(t, plan, tc) })
			t.Run("network", func(t *testing.T) { assertNetwork(t, cs, tc) })
			t.Run("database", func(t *testing.T) { assertDatabase(t, cs, tc) })
			t.Run("cluster", func(t *testing.T) { assertCluster(t, cs) })
			t.Run("registry", func(t *testing.T) { assertRegistry(t, cs) })
			t.Run("logs", func(t *testing.T) { assertLogs(t, cs, tc) })
			t.Run("identity", func(t *testing.T) { assertIdentity(t, cs, tc) })
			t.Run("audit trail", func(t *testing.T) { assertAudit(t, cs, tc) })
			t.Run("outputs", func(t *testing.T) { assertOutputs(t, plan) })
		})
	}
}

func assertUnknownDocuments(t *testing.T, cs []change) {
	var unknown []string
	for _, c := range cs {
		for _, attr := range []string{"policy", "assume_role_policy"} {
			if !strings.HasPrefix(c.Type, "aws_iam_") {
				continue
			}
			if c.unknown(attr) {
				unknown = append(unknown, c.Address+"."+attr)
			}
		}
	}
	sort.Strings(unknown)
	if !reflect.DeepEqual(unknown, unknownAtPlan()) {
		t.Errorf("IAM documents unknown at plan time:\n got %v\nwant %v", unknown, unknownAtPlan())
	}
}

func assertNetwork(t *testing.T, cs []change, tc envCase) {
	if n := len(ofType(cs, "aws_nat_gateway")); n != tc.natGateways {
		t.Errorf("NAT gateways: got %d, want %d", n, tc.natGateways)
	}
	sg := one(t, cs, "module.stack.module.network.aws_default_security_group.this")
	if len(sg.list("ingress")) != 0 || len(sg.list("egress")) != 0 {
		t.Errorf("the default security group must have no rules: ingress %v egress %v", sg.After["ingress"], sg.After["egress"])
	}
	fl := one(t, cs, "module.stack.module.network.aws_flow_log.this")
	if fl.After["traffic_type"] != "ALL" || fl.After["log_destination_type"] != "cloud-watch-logs" {
		t.Errorf("flow log: traffic %v to %v, want ALL to cloud-watch-logs", fl.After["traffic_type"], fl.After["log_destination_type"])
	}
	var services []string
	for _, e := range ofType(cs, "aws_vpc_endpoint") {
		services = append(services, fmt.Sprint(e.After["service_name"]))
	}
	sort.Strings(services)
	want := []string{"com.amazonaws.eu-west-1.ecr.api", "com.amazonaws.eu-west-1.ecr.dkr", "com.amazonaws.eu-west-1.logs", "com.amazonaws.eu-west-1.s3", "com.amazonaws.eu-west-1.secretsmanager", "com.amazonaws.eu-west-1.sts"}
	if !reflect.DeepEqual(services, want) {
		t.Errorf("VPC endpoints: got %v, want %v", services, want)
	}
	for _, s := range ofType(cs, "aws_subnet") {
		if s.After["map_public_ip_on_launch"] == true {
			t.Errorf("%s hands out public IPs", s.Address)
		}
	}
	// Only the public route table reaches the internet gateway; data subnets have no default route.
	for _, r := range ofType(cs, "aws_route") {
		if r.After["destination_cidr_block"] == "0.0.0.0/0" && !strings.Contains(r.Address, "public_internet") && !strings.Contains(r.Address, "private_nat") {
			t.Errorf("unexpected default route %s", r.Address)
		}
	}
}

func assertDatabase(t *testing.T, cs []change, tc envCase) {
	db := one(t, cs, "module.stack.module.database.aws_db_instance.this")
	want := map[string]any{
		"publicly_accessible":                 false,
		"storage_encrypted":                   true,
		"iam_database_authentication_enabled": true,
		"manage_master_user_password":         true,
		"multi_az":                            tc.multiAZ,
		"deletion_protection":                 tc.deletionProtection,
		"backup_retention_period":             tc.backupDays,
		"skip_final_snapshot":                 false,
		"db_name":                             "app",
		"port":                                float64(5432),
		"engine":                              "postgres",
	}
	for k, v := range want {
		if db.After[k] != v {
			t.Errorf("aws_db_instance.%s = %v, want %v", k, db.After[k], v)
		}
	}
	if pw, ok := db.After["password"]; ok && pw != nil {
		t.Errorf("the master password must not be in the configuration or the state")
	}
	if db.After["performance_insights_enabled"] != true || !db.unknown("performance_insights_kms_key_id") {
		t.Errorf("Performance Insights must be on and encrypted with the database's key: enabled %v, key %v", db.After["performance_insights_enabled"], db.After["performance_insights_kms_key_id"])
	}
	if !db.unknown("kms_key_id") {
		t.Errorf("the database must be encrypted with the module's own KMS key (kms_key_id known after apply), got %v", db.After["kms_key_id"])
	}
	if got := strs(db.After["enabled_cloudwatch_logs_exports"]); !reflect.DeepEqual(got, []string{"postgresql", "upgrade"}) {
		t.Errorf("log exports: %v", got)
	}
	pg := ofType(cs, "aws_db_parameter_group")
	if len(pg) != 1 {
		t.Fatalf("want one parameter group, got %d", len(pg))
	}
	forceSSL := false
	for _, p := range pg[0].list("parameter") {
		if p["name"] == "rds.force_ssl" && p["value"] == "1" {
			forceSSL = true
		}
	}
	if !forceSSL {
		t.Errorf("rds.force_ssl must be 1")
	}
	// 5432 only from the workload (cluster) security group; no CIDR anywhere.
	var dbRules []change
	for _, r := range ofType(cs, "aws_vpc_security_group_ingress_rule") {
		if strings.HasPrefix(r.Address, "module.stack.module.database.") {
			dbRules = append(dbRules, r)
		}
	}
	if len(dbRules) != 1 {
		t.Fatalf("want one ingress rule on the database, got %d", len(dbRules))
	}
	r := dbRules[0]
	if r.After["from_port"] != float64(5432) || r.After["to_port"] != float64(5432) || r.After["cidr_ipv4"] != nil || r.After["cidr_ipv6"] != nil || !r.unknown("referenced_security_group_id") {
		t.Errorf("database ingress must be 5432 from the cluster security group only: %v", r.After)
	}
	sg := one(t, cs, "module.stack.module.database.aws_security_group.db")
	if len(sg.list("egress")) != 0 || len(sg.list("ingress")) != 0 {
		t.Errorf("the database security group must have no inline rules")
	}
	secret := one(t, cs, "module.stack.module.database.aws_secretsmanager_secret.app")
	if secret.After["name"] != "template-api-"+tc.env+"/db-app" || !secret.unknown("kms_key_id") {
		t.Errorf("app secret: name %v, kms_key_id known=%v", secret.After["name"], !secret.unknown("kms_key_id"))
	}
	if len(ofType(cs, "aws_secretsmanager_secret_version")) != 0 {
		t.Errorf("no secret value may be managed by Terraform (it would be in the state)")
	}
}

func assertCluster(t *testing.T, cs []change) {
	eks := one(t, cs, "module.stack.module.cluster.aws_eks_cluster.this")
	vpc := eks.list("vpc_config")
	if len(vpc) != 1 || vpc[0]["endpoint_public_access"] != false || vpc[0]["endpoint_private_access"] != true {
		t.Errorf("the API endpoint must be private only: %v", vpc)
	}
	enc := eks.list("encryption_config")
	if len(enc) != 1 || !reflect.DeepEqual(strs(enc[0]["resources"]), []string{"secrets"}) {
		t.Errorf("Secrets must be envelope-encrypted: %v", enc)
	}
	logs := strs(eks.After["enabled_cluster_log_types"])
	if !reflect.DeepEqual(logs, []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}) {
		t.Errorf("control-plane logs: %v", logs)
	}
	access := eks.list("access_config")
	if len(access) != 1 || access[0]["authentication_mode"] != "API" || access[0]["bootstrap_cluster_creator_admin_permissions"] != false {
		t.Errorf("access entries only, no creator admin: %v", access)
	}
	lt := one(t, cs, "module.stack.module.cluster.aws_launch_template.node")
	md := lt.list("metadata_options")
	if len(md) != 1 || md[0]["http_tokens"] != "required" || md[0]["http_put_response_hop_limit"] != float64(1) {
		t.Errorf("nodes must require IMDSv2 with hop limit 1: %v", md)
	}
	ng := one(t, cs, "module.stack.module.cluster.aws_eks_node_group.default")
	if ng.After["ami_type"] != "AL2023_x86_64_STANDARD" || len(ng.list("launch_template")) != 1 {
		t.Errorf("node group must use the hardened launch template: %v", ng.After)
	}
	if len(ofType(cs, "aws_iam_openid_connect_provider")) != 2 {
		t.Errorf("want the IRSA and the GitHub OIDC providers")
	}
}

func assertRegistry(t *testing.T, cs []change) {
	repo := one(t, cs, "module.stack.module.registry.aws_ecr_repository.this")
	if repo.After["image_tag_mutability"] != "IMMUTABLE" || repo.After["force_delete"] != false {
		t.Errorf("ECR: tags must be immutable and the repository not force-deletable: %v", repo.After)
	}
	scan := repo.list("image_scanning_configuration")
	if len(scan) != 1 || scan[0]["scan_on_push"] != true {
		t.Errorf("ECR: scan on push: %v", scan)
	}
	enc := repo.list("encryption_configuration")
	if len(enc) != 1 || enc[0]["encryption_type"] != "KMS" {
		t.Errorf("ECR: KMS encryption: %v", enc)
	}
	one(t, cs, "module.stack.module.registry.aws_ecr_lifecycle_policy.this")
}

func assertLogs(t *testing.T, cs []change, tc envCase) {
	groups := ofType(cs, "aws_cloudwatch_log_group")
	if len(groups) != 6 {
		t.Errorf("want 6 log groups (app, cluster, flow logs, 2 RDS exports, the trail), got %d", len(groups))
	}
	for _, g := range groups {
		if !g.unknown("kms_key_id") {
			t.Errorf("%s: kms_key_id must be a key of this stack, got %v", g.Address, g.After["kms_key_id"])
		}
		want := tc.retentionDays
		if strings.HasPrefix(fmt.Sprint(g.After["name"]), "/aws/cloudtrail/") {
			want = 365 // the audit trail's group keeps a year in every environment
		}
		if g.After["retention_in_days"] != want {
			t.Errorf("%s: retention %v, want %v", g.Address, g.After["retention_in_days"], want)
		}
	}
	for _, k := range ofType(cs, "aws_kms_key") {
		if k.After["enable_key_rotation"] != true {
			t.Errorf("%s: key rotation must be on", k.Address)
		}
	}
}

func assertIdentity(t *testing.T, cs []change, tc envCase) {
	for _, typ := range []string{"aws_iam_user", "aws_iam_access_key", "aws_iam_user_login_profile"} {
		if n := len(ofType(cs, typ)); n != 0 {
			t.Errorf("%d %s planned: no IAM users or access keys", n, typ)
		}
	}
	repo := "repo:platform-template/template-api:"
	wantSubs := map[string][]string{
		"push":   {repo + "ref:refs/heads/main"},
		"deploy": {repo + "environment:" + tc.env},
		"plan":   {repo + "pull_request", repo + "ref:refs/heads/main"},
	}
	for role, want := range wantSubs {
		c := one(t, cs, fmt.Sprintf("module.stack.module.identity.aws_iam_role.ci[%q]", role))
		doc, ok := policyDoc(t, c, "assume_role_policy")
		if !ok {
			t.Fatalf("%s: the trust policy must be known at plan time", c.Address)
		}
		st := doc["Statement"].([]any)[0].(map[string]any)
		cond := st["Condition"].(map[string]any)["StringEquals"].(map[string]any)
		var got []string
		switch v := cond["token.actions.githubusercontent.com:sub"].(type) {
		case string:
			got = []string{v}
		case []any:
			got = strs(v)
		}
		sort.Strings(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s trusts subjects %v, want %v", c.Address, got, want)
		}
		if cond["token.actions.githubusercontent.com:aud"] != "sts.amazonaws.com" {
			t.Errorf("%s: audience must be sts.amazonaws.com", c.Address)
		}
	}
	push := one(t, cs, "module.stack.module.identity.aws_iam_role_policy.ci_push")
	doc, ok := policyDoc(t, push, "policy")
	if !ok {
		t.Fatalf("the push policy must be known at plan time")
	}
	resources := map[string]bool{}
	for _, s := range doc["Statement"].([]any) {
		resources[fmt.Sprint(s.(map[string]any)["Resource"])] = true
	}
	if !resources["arn:aws:ecr:eu-west-1:"+testAccountID+":repository/template-api"] || len(resources) != 2 {
		t.Errorf("the push role may push to the one repository only: %v", resources)
	}
	entry := one(t, cs, "module.stack.module.identity.aws_eks_access_entry.ci_deploy")
	if got := strs(entry.After["kubernetes_groups"]); !reflect.DeepEqual(got, []string{"template-api:ci-deployers"}) {
		t.Errorf("deploy role's Kubernetes groups: %v", got)
	}
	if n := len(ofType(cs, "aws_eks_access_policy_association")); n != 0 {
		t.Errorf("no EKS access policy may be associated by default (got %d)", n)
	}
}

func assertOutputs(t *testing.T, plan map[string]any) {
	outs, _ := plan["output_changes"].(map[string]any)
	for _, name := range []string{"app_role_arn", "external_secrets_role_arn", "ecr_repository_url", "ci_push_role_arn", "ci_deploy_role_arn", "ci_plan_role_arn", "db_endpoint", "db_secret_arn", "db_secret_name", "db_user", "db_name", "audit_trail_arn", "audit_bucket_name", "auditor_role_arn"} {
		if _, ok := outs[name]; !ok {
			t.Errorf("output %s is missing (the manifests and workflows use it)", name)
		}
	}
}

func assertChecks(t *testing.T, plan map[string]any, tc envCase) {
	raw, _ := plan["checks"].([]any)
	if len(raw) == 0 {
		t.Fatal("the plan reports no checkable objects")
	}
	failing := []string{}
	for _, c := range raw {
		obj, _ := c.(map[string]any)
		addr, _ := obj["address"].(map[string]any)
		if obj["status"] == "fail" {
			failing = append(failing, fmt.Sprint(addr["to_display"]))
		}
	}
	sort.Strings(failing)
	want := append([]string{}, tc.failingChecks...)
	if !reflect.DeepEqual(failing, want) {
		t.Errorf("failing checks: got %v, want %v", failing, want)
	}
}

func assertAudit(t *testing.T, cs []change, tc envCase) {
	trail := one(t, cs, "module.stack.module.audit.aws_cloudtrail.this")
	for _, k := range []string{"enable_logging", "is_multi_region_trail", "include_global_service_events", "enable_log_file_validation"} {
		if trail.After[k] != true {
			t.Errorf("trail: %s = %v, want true", k, trail.After[k])
		}
	}
	if !trail.unknown("kms_key_id") || trail.After["s3_bucket_name"] != "template-api-"+tc.env+"-audit-"+testAccountID {
		t.Errorf("trail: encrypted with its key (known after apply) into the dedicated bucket; got key %v, bucket %v", trail.After["kms_key_id"], trail.After["s3_bucket_name"])
	}
	policy := one(t, cs, "module.stack.module.audit.aws_s3_bucket_policy.trail")
	doc, ok := policyDoc(t, policy, "policy")
	if !ok {
		t.Fatal("the trail bucket's policy must be known at plan time")
	}
	sids := map[string]bool{}
	for _, s := range doc["Statement"].([]any) {
		sids[fmt.Sprint(s.(map[string]any)["Sid"])] = true
	}
	for _, sid := range []string{"OnlyTheAuditRoleReads", "OnlyCloudTrailWrites", "DenyInsecureTransport"} {
		if !sids[sid] {
			t.Errorf("the trail bucket's policy lacks %s: %v", sid, sids)
		}
	}
}
