# Unit tests of the plan guardrails: each rule fires on a small bad input, with the resource's
# address in the message, and stays quiet on the good one. Run by the Terratest suite
# (test/e2e/terraform) through OPA's Go tester.
package terraform.guardrails_test

import data.terraform.guardrails

plan(changes) := {"resource_changes": changes, "configuration": {"root_module": {}}}

create(address, type, after) := {
	"address": address,
	"mode": "managed",
	"type": type,
	"change": {"actions": ["create"], "after": after, "after_unknown": {}},
}

denied(input_plan, prefix) if {
	some msg in guardrails.deny with input as input_plan
	startswith(msg, prefix)
}

no_denial(input_plan) if count(guardrails.deny) == 0 with input as input_plan

# --- databases --------------------------------------------------------------------------------

test_public_database_denied if {
	denied(plan([create("aws_db_instance.db", "aws_db_instance", {"publicly_accessible": true, "storage_encrypted": true})]), "aws_db_instance.db: the database is publicly accessible")
}

test_unencrypted_database_denied if {
	denied(plan([create("module.x.aws_db_instance.db", "aws_db_instance", {"publicly_accessible": false, "storage_encrypted": false})]), "module.x.aws_db_instance.db: the database storage is not encrypted")
}

test_private_encrypted_database_admitted if {
	no_denial(plan([create("aws_db_instance.db", "aws_db_instance", {"publicly_accessible": false, "storage_encrypted": true})]))
}

test_deleted_public_database_ignored if {
	rc := object.union(create("aws_db_instance.db", "aws_db_instance", null), {"change": {"actions": ["delete"], "after": null, "after_unknown": {}}})
	no_denial(plan([rc]))
}

# --- security groups --------------------------------------------------------------------------

ingress(from, to, protocol, cidrs) := {"from_port": from, "to_port": to, "protocol": protocol, "cidr_blocks": cidrs, "ipv6_cidr_blocks": []}

test_ssh_from_anywhere_denied if {
	denied(plan([create("aws_security_group.ssh", "aws_security_group", {"ingress": [ingress(22, 22, "tcp", ["0.0.0.0/0"])], "tags": null})]), "aws_security_group.ssh: ingress tcp 22-22 is open to 0.0.0.0/0")
}

test_ipv6_world_denied if {
	rule := {"from_port": 0, "to_port": 0, "protocol": "-1", "cidr_blocks": [], "ipv6_cidr_blocks": ["::/0"]}
	denied(plan([create("aws_security_group.all", "aws_security_group", {"ingress": [rule], "tags": {"Role": "load-balancer"}})]), "aws_security_group.all: ingress all traffic is open to ::/0")
}

test_https_on_load_balancer_admitted if {
	no_denial(plan([create("aws_security_group.lb", "aws_security_group", {"ingress": [ingress(443, 443, "tcp", ["0.0.0.0/0"])], "tags": {"Role": "load-balancer"}})]))
}

test_https_on_untagged_group_denied if {
	denied(plan([create("aws_security_group.web", "aws_security_group", {"ingress": [ingress(443, 443, "tcp", ["0.0.0.0/0"])], "tags": {}})]), "aws_security_group.web: ingress tcp 443-443")
}

test_private_ingress_admitted if {
	no_denial(plan([create("aws_security_group.db", "aws_security_group", {"ingress": [ingress(5432, 5432, "tcp", ["10.0.0.0/16"])], "tags": null})]))
}

test_standalone_rule_open_to_world_denied if {
	denied(plan([create("aws_vpc_security_group_ingress_rule.pg", "aws_vpc_security_group_ingress_rule", {"cidr_ipv4": "0.0.0.0/0", "from_port": 5432, "to_port": 5432, "ip_protocol": "tcp", "tags": null})]), "aws_vpc_security_group_ingress_rule.pg: ingress tcp 5432-5432 is open to 0.0.0.0/0")
}

test_legacy_rule_open_to_world_denied if {
	denied(plan([create("aws_security_group_rule.web", "aws_security_group_rule", {"type": "ingress", "from_port": 443, "to_port": 443, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]})]), "aws_security_group_rule.web: ingress tcp 443-443")
}

test_world_egress_admitted if {
	no_denial(plan([create("aws_security_group_rule.out", "aws_security_group_rule", {"type": "egress", "from_port": 443, "to_port": 443, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]})]))
}

# --- VPC flow logs ----------------------------------------------------------------------------

flow_log_config(vpc_ref) := {"type": "aws_flow_log", "mode": "managed", "expressions": {"vpc_id": {"references": [sprintf("%s.id", [vpc_ref]), vpc_ref]}}}

test_vpc_without_flow_log_denied if {
	denied(plan([create("aws_vpc.main", "aws_vpc", {})]), "aws_vpc.main: the VPC has no flow log")
}

test_vpc_with_flow_log_in_module_admitted if {
	p := {
		"resource_changes": [create("module.network.aws_vpc.this", "aws_vpc", {})],
		"configuration": {"root_module": {"module_calls": {"network": {"module": {"resources": [flow_log_config("aws_vpc.this")]}}}}},
	}
	no_denial(p)
}

test_flow_log_of_another_vpc_does_not_count if {
	p := {
		"resource_changes": [create("aws_vpc.a", "aws_vpc", {}), create("aws_vpc.b", "aws_vpc", {})],
		"configuration": {"root_module": {"resources": [flow_log_config("aws_vpc.a")]}},
	}
	denied(p, "aws_vpc.b: the VPC has no flow log")
	not denied(p, "aws_vpc.a:")
}

# --- log groups -------------------------------------------------------------------------------

test_unencrypted_log_group_denied if {
	denied(plan([create("aws_cloudwatch_log_group.app", "aws_cloudwatch_log_group", {"kms_key_id": null})]), "aws_cloudwatch_log_group.app: the log group is not encrypted")
}

test_log_group_with_key_known_after_apply_admitted if {
	rc := object.union(create("aws_cloudwatch_log_group.app", "aws_cloudwatch_log_group", {}), {"change": {"after_unknown": {"kms_key_id": true}}})
	no_denial(plan([rc]))
}

# --- IAM --------------------------------------------------------------------------------------

policy(statement) := json.marshal({"Version": "2012-10-17", "Statement": [statement]})

test_star_action_denied if {
	denied(plan([create("aws_iam_policy.admin", "aws_iam_policy", {"policy": policy({"Effect": "Allow", "Action": "*", "Resource": "*"})})]), "aws_iam_policy.admin: statement 0 allows every action")
}

test_service_wildcard_action_denied if {
	denied(plan([create("aws_iam_role_policy.s3", "aws_iam_role_policy", {"policy": policy({"Sid": "All", "Effect": "Allow", "Action": ["s3:*"], "Resource": "arn:aws:s3:::b/*"})})]), "aws_iam_role_policy.s3: statement \"All\" allows every action of \"s3:*\"")
}

test_write_on_every_resource_denied if {
	denied(plan([create("aws_iam_role_policy.put", "aws_iam_role_policy", {"policy": policy({"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"})})]), "aws_iam_role_policy.put: statement 0 allows write actions on every resource (\"*\"): s3:PutObject")
}

test_read_on_every_resource_admitted if {
	no_denial(plan([create("aws_iam_role_policy.login", "aws_iam_role_policy", {"policy": policy({"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"})})]))
}

test_deny_statement_with_wildcards_admitted if {
	no_denial(plan([create("aws_iam_policy.guard", "aws_iam_policy", {"policy": policy({"Effect": "Deny", "Action": "*", "Resource": "*"})})]))
}

test_not_action_denied if {
	denied(plan([create("aws_iam_policy.na", "aws_iam_policy", {"policy": policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"})})]), "aws_iam_policy.na: statement 0 allows with NotAction")
}

test_inline_policy_of_role_checked if {
	denied(plan([create("aws_iam_role.r", "aws_iam_role", {"inline_policy": [{"name": "x", "policy": policy({"Effect": "Allow", "Action": "*", "Resource": "*"})}]})]), "aws_iam_role.r: statement 0 allows every action")
}

test_administrator_access_denied if {
	denied(plan([create("aws_iam_role_policy_attachment.a", "aws_iam_role_policy_attachment", {"policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess", "role": "r"})]), "aws_iam_role_policy_attachment.a: attaches AdministratorAccess")
}

test_iam_user_and_key_denied if {
	p := plan([create("aws_iam_user.ci", "aws_iam_user", {"name": "ci"}), create("aws_iam_access_key.ci", "aws_iam_access_key", {"user": "ci"})])
	denied(p, "aws_iam_user.ci: IAM users and access keys are not allowed")
	denied(p, "aws_iam_access_key.ci: IAM users and access keys are not allowed")
}

github_trust(condition) := json.marshal({"Version": "2012-10-17", "Statement": [{
	"Effect": "Allow",
	"Principal": {"Federated": "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"},
	"Action": "sts:AssumeRoleWithWebIdentity",
	"Condition": condition,
}]})

test_unpinned_github_trust_denied if {
	trust := github_trust({
		"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
		"StringLike": {"token.actions.githubusercontent.com:sub": "repo:platform-template/*"},
	})
	denied(plan([create("aws_iam_role.ci", "aws_iam_role", {"assume_role_policy": trust})]), "aws_iam_role.ci: trust policy for GitHub OIDC (statement 0) does not pin token.actions.githubusercontent.com:sub")
}

test_github_trust_with_wildcard_ref_denied if {
	trust := github_trust({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": "repo:o/r:ref:refs/heads/*"}})
	denied(plan([create("aws_iam_role.ci", "aws_iam_role", {"assume_role_policy": trust})]), "aws_iam_role.ci: trust policy for GitHub OIDC")
}

test_github_trust_without_audience_denied if {
	trust := github_trust({"StringEquals": {"token.actions.githubusercontent.com:sub": "repo:o/r:environment:production"}})
	denied(plan([create("aws_iam_role.ci", "aws_iam_role", {"assume_role_policy": trust})]), "aws_iam_role.ci: trust policy for GitHub OIDC (statement 0) does not pin token.actions.githubusercontent.com:aud")
}

test_pinned_github_trust_admitted if {
	trust := github_trust({"StringEquals": {
		"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
		"token.actions.githubusercontent.com:sub": ["repo:o/r:pull_request", "repo:o/r:ref:refs/heads/main"],
	}})
	no_denial(plan([create("aws_iam_role.ci", "aws_iam_role", {"assume_role_policy": trust})]))
}

test_role_anyone_can_assume_denied if {
	trust := json.marshal({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
	denied(plan([create("aws_iam_role.open", "aws_iam_role", {"assume_role_policy": trust})]), "aws_iam_role.open: trust policy (statement 0) lets any AWS principal assume the role")
}

test_service_trust_admitted if {
	trust := json.marshal({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
	no_denial(plan([create("aws_iam_role.node", "aws_iam_role", {"assume_role_policy": trust})]))
}
