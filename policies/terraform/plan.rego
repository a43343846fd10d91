# Guardrails on Terraform plans (the JSON of `terraform show -json <planfile>`), OPA v1 syntax.
#
# Query data.terraform.guardrails.violations: a set of {rule, address, msg}. An empty set admits
# the plan. data.terraform.guardrails.deny holds the same as "rule: address: msg" strings (the
# conftest convention).
#
# Three principles, each closing a class of bypass:
#
#   Fail closed. A value unknown until apply is refused unless the rule can prove it safe from the
#   configuration: its expression (which the plan JSON carries) is followed through module
#   variables and outputs to the resources or constants it comes from (provenance below). A KMS
#   key argument that can only be the ARN of a key this plan creates is safe; one that comes from
#   a local value or an unknown string is not.
#
#   Judge resources, not variables. Every rule reads what the plan will create (resource_changes),
#   never the inputs that usually produce it, so an override of the resource argument itself is
#   judged like any other value.
#
#   Reason semantically. Networks are compared as networks (net.cidr_*), ARNs are parsed as ARNs,
#   IAM actions are classified by what they can do (actions.rego), not by how they are spelt.
#
# The caller vouches for two facts the plan cannot prove about itself (data.terraform.params):
# the environment (production's rules apply when none is given) and the account id (else the
# root module's account_id variable).
package terraform.guardrails

# --- violations -------------------------------------------------------------------------------

violation(rule, address, msg) := {"rule": rule, "address": address, "msg": msg}

deny contains sprintf("%s: %s: %s", [v.rule, v.address, v.msg]) if some v in violations

# --- parameters -------------------------------------------------------------------------------

default_params := {"environment": "", "account_id": ""}

params := object.union(default_params, data.terraform.params) if is_object(data.terraform.params)

params := default_params if not is_object(data.terraform.params)

environment := params.environment if params.environment != ""

environment := "production" if params.environment == ""

production if environment == "production"

own_accounts contains params.account_id if params.account_id != ""

own_accounts contains account if {
	params.account_id == ""
	account := input.variables.account_id.value
	is_string(account)
}

# --- the resources the plan leaves behind -----------------------------------------------------

# Managed resources that exist after apply (created, updated, replaced or left as they are).
resources contains rc if {
	some rc in input.resource_changes
	rc.mode == "managed"
	not deleted(rc)
	is_object(rc.change.after)
}

deleted(rc) if {
	"delete" in rc.change.actions
	not "create" in rc.change.actions
}

of_type(type) := {rc | some rc in resources; rc.type == type}

# Data sources read at apply (their inputs are unknown at plan): their known parts are shown.
deferred_data contains rc if {
	some rc in input.resource_changes
	rc.mode == "data"
	is_object(rc.change.after)
}

# A value is unknown at plan when after_unknown marks it, or any block that holds it.
unknown_at(rc, path) if {
	some n in numbers.range(1, count(path))
	object.get(rc.change.after_unknown, array.slice(path, 0, n), false) == true
}

# Anything unknown at or under path: after_unknown marks list elements one by one ([true]), so a
# list with one unknown element is not "unknown" as a whole; the rules that ask "can anything
# here be unknown" ask this.
unknown_in(rc, path) if unknown_at(rc, path)

unknown_in(rc, path) if {
	walk(object.get(rc.change.after_unknown, path, false), [_, v])
	v == true
}

value_at(rc, path) := object.get(rc.change.after, path, null)

# A resource address without instance keys: module.x["a"].aws_vpc.this[0] -> module.x.aws_vpc.this
base_address(addr) := regex.replace(addr, `\[[^\]]*\]`, "")

as_array(x) := x if is_array(x)

as_array(x) := [] if x == null

as_array(x) := [x] if {
	not is_array(x)
	x != null
}

lower_all(xs) := [lower(x) | some x in xs; is_string(x)]

# --- the configuration, indexed ---------------------------------------------------------------

# Every module of the configuration by address prefix: "" for the root, "module.a.module.b." ...
module_config[prefix] := mod if {
	walk(input.configuration.root_module, [path, mod])
	is_module_path(path)
	prefix := concat("", [sprintf("module.%s.", [path[i + 1]]) | some i; path[i] == "module_calls"])
}

is_module_path(path) if count(path) == 0

is_module_path(path) if {
	n := count(path)
	n >= 3
	path[n - 1] == "module"
	path[n - 3] == "module_calls"
}

# Module calls: the child's prefix, the parent's prefix, and the call block.
module_calls contains {"child": child, "parent": parent, "call": call} if {
	some parent, mod in module_config
	some name, call in object.get(mod, "module_calls", {})
	child := sprintf("%smodule.%s.", [parent, name])
}

# The configuration block of every resource and data source, by base address.
config_resource[addr] := {"prefix": prefix, "block": block} if {
	some prefix, mod in module_config
	some block in object.get(mod, "resources", [])
	addr := concat("", [prefix, block.address])
}

config_of(rc) := config_resource[base_address(rc.address)]

# The configuration expression of an attribute of rc (a path into its expressions), or null.
expression_at(rc, path) := object.get(config_of(rc).block.expressions, path, null)

# --- provenance: where a value unknown at plan comes from --------------------------------------
#
# Nodes of a graph, as strings:
#   res:<address>|<attribute>  a resource or data source of the plan (leaf)
#   const:<json>               a constant (leaf)
#   input:<name>               a variable of the root module, given at plan time (leaf)
#   meta:<ref>                 count.index, each.key, path.module ... (leaf, carries no data)
#   opaque:<ref>               a local value or a whole module: the plan JSON does not show what
#                              it holds, so nothing can be proven through it (leaf)
#   var:<prefix><name>         a module variable: edges to the expression of its module call
#   out:<prefix><module>.:<name>  a module output: edges to its expression in the child
# graph.reachable follows the edges; the leaves reached are where the value can come from.

# References that add nothing: "module.db" next to "module.db.kms_key_arn".
coarse(ref, refs) if {
	some other in refs
	other != ref
	startswith(other, concat("", [ref, "."]))
}

coarse(ref, refs) if {
	some other in refs
	other != ref
	startswith(other, concat("", [ref, "["]))
}

fine_refs(refs) := {r | some r in refs; not coarse(r, refs)}

meta_prefixes := ["count.", "each.", "path.", "terraform.", "self."]

node_of(prefix, ref) := sprintf("var:%s%s", [prefix, substring(ref, 4, -1)]) if startswith(ref, "var.")

node_of(prefix, ref) := sprintf("opaque:%s%s", [prefix, ref]) if startswith(ref, "local.")

node_of(_, ref) := sprintf("meta:%s", [ref]) if {
	some p in meta_prefixes
	startswith(ref, p)
}

node_of(prefix, ref) := n if {
	startswith(ref, "module.")
	parts := split(base_address(ref), ".")
	count(parts) >= 3
	n := sprintf("out:%smodule.%s.:%s", [prefix, parts[1], parts[2]])
}

node_of(prefix, ref) := sprintf("opaque:%s%s", [prefix, ref]) if {
	startswith(ref, "module.")
	count(split(base_address(ref), ".")) < 3
}

node_of(prefix, ref) := n if {
	startswith(ref, "data.")
	parts := split(base_address(ref), ".")
	count(parts) >= 3
	n := sprintf("res:%sdata.%s.%s|%s", [prefix, parts[1], parts[2], concat(".", array.slice(parts, 3, count(parts)))])
}

node_of(prefix, ref) := n if {
	not startswith(ref, "data.")
	not startswith(ref, "var.")
	not startswith(ref, "local.")
	not startswith(ref, "module.")
	not meta_ref(ref)
	parts := split(base_address(ref), ".")
	count(parts) >= 2
	n := sprintf("res:%s%s.%s|%s", [prefix, parts[0], parts[1], concat(".", array.slice(parts, 2, count(parts)))])
}

meta_ref(ref) if {
	some p in meta_prefixes
	startswith(ref, p)
}

expression_nodes(prefix, expr) := {node_of(prefix, r) | some r in fine_refs(expr.references)} if is_array(expr.references)

expression_nodes(_, expr) := {sprintf("const:%s", [json.marshal(expr.constant_value)])} if {
	not is_array(expr.references)
	"constant_value" in object.keys(expr)
}

# Module variables: the expression its call gives, or the variable's default.
edges[node] := succ if {
	some c in module_calls
	some name, _ in object.get(c.call.module, "variables", {})
	node := sprintf("var:%s%s", [c.child, name])
	expr := object.get(c.call, ["expressions", name], null)
	is_object(expr)
	succ := expression_nodes(c.parent, expr)
}

edges[node] := {sprintf("const:%s", [json.marshal(object.get(variable, "default", null))])} if {
	some c in module_calls
	some name, variable in object.get(c.call.module, "variables", {})
	node := sprintf("var:%s%s", [c.child, name])
	not is_object(object.get(c.call, ["expressions", name], null))
}

# Root variables: given at plan time.
edges[node] := {sprintf("input:%s", [name])} if {
	some name, _ in object.get(input.configuration.root_module, "variables", {})
	node := sprintf("var:%s", [name])
}

# Module outputs: their expression in the child.
edges[node] := succ if {
	some c in module_calls
	some name, output in object.get(c.call.module, "outputs", {})
	node := sprintf("out:%s:%s", [c.child, name])
	succ := expression_nodes(c.child, output.expression)
}

# The leaves an attribute of rc can come from; undefined when it has no expression.
provenance(rc, path) := {n |
	some n in reached(expression_nodes(config_of(rc).prefix, expression_at(rc, path)))
	not edges[n]
}

# graph.reachable returns the nodes of the graph (those with edges); the leaves are one step on.
reached(starts) := (starts | inner) | {s | some n in inner; some s in edges[n]} if {
	inner := graph.reachable(edges, starts)
}

# A leaf is a resource of the plan: [address, attribute].
res_leaf(node) := split(substring(node, 4, -1), "|") if startswith(node, "res:")

# The type of a resource address: the second-to-last name (data sources keep "data.").
type_of(address) := parts[count(parts) - 2] if {
	parts := split(address, ".")
	not parts[count(parts) - 3] == "data"
}

type_of(address) := concat(".", ["data", parts[count(parts) - 2]]) if {
	parts := split(address, ".")
	parts[count(parts) - 3] == "data"
}

# Every leaf of the attribute is a resource of one of types (through the attributes named), or
# carries no data; at least one is such a resource.
derived_from(rc, path, types, attrs) if {
	leaves := provenance(rc, path)
	some leaf in leaves
	startswith(leaf, "res:")
	every l in leaves {
		leaf_of(l, types, attrs)
	}
}

leaf_of(l, _, _) if startswith(l, "meta:")

leaf_of(l, types, attrs) if {
	[address, attr] := res_leaf(l)
	type_of(address) in types
	attr in attrs
}

# The resources (base addresses) of one of types that an attribute refers to, through any chain.
referenced(rc, path, types) := {address |
	some l in provenance(rc, path)
	[address, _] := res_leaf(l)
	type_of(address) in types
}

# The resources of the plan at a base address.
at_base(address) := {rc | some rc in resources; base_address(rc.address) == address}

# --- what the guardrails can judge ------------------------------------------------------------

# The resource types these rules know: what each can share, expose, grant or run has been judged
# (some are always refused). Any other type is refused until that is done and it is listed here:
# a new way to share data, open a network or grant access is not admitted by default.
judged_types := {
	"aws_cloudtrail",
	"aws_cloudwatch_log_group",
	"aws_db_cluster_snapshot",
	"aws_db_instance",
	"aws_db_parameter_group",
	"aws_db_snapshot",
	"aws_db_snapshot_copy",
	"aws_db_subnet_group",
	"aws_default_route_table",
	"aws_default_security_group",
	"aws_ec2_transit_gateway",
	"aws_ecr_lifecycle_policy",
	"aws_ecr_registry_policy",
	"aws_ecr_registry_scanning_configuration",
	"aws_ecr_repository",
	"aws_ecr_repository_policy",
	"aws_eip",
	"aws_eks_access_entry",
	"aws_eks_access_policy_association",
	"aws_eks_cluster",
	"aws_eks_fargate_profile",
	"aws_eks_node_group",
	"aws_flow_log",
	"aws_iam_access_key",
	"aws_iam_group_policy",
	"aws_iam_group_policy_attachment",
	"aws_iam_openid_connect_provider",
	"aws_iam_policy",
	"aws_iam_policy_attachment",
	"aws_iam_role",
	"aws_iam_role_policy",
	"aws_iam_role_policy_attachment",
	"aws_iam_role_policy_attachments_exclusive",
	"aws_iam_saml_provider",
	"aws_iam_service_specific_credential",
	"aws_iam_user",
	"aws_iam_user_login_profile",
	"aws_iam_user_policy",
	"aws_iam_user_policy_attachment",
	"aws_iam_user_ssh_key",
	"aws_internet_gateway",
	"aws_kms_alias",
	"aws_kms_key",
	"aws_kms_key_policy",
	"aws_kms_replica_key",
	"aws_launch_template",
	"aws_nat_gateway",
	"aws_rds_cluster",
	"aws_rds_cluster_instance",
	"aws_route",
	"aws_route_table",
	"aws_route_table_association",
	"aws_s3_account_public_access_block",
	"aws_s3_bucket",
	"aws_s3_bucket_acl",
	"aws_s3_bucket_lifecycle_configuration",
	"aws_s3_bucket_logging",
	"aws_s3_bucket_ownership_controls",
	"aws_s3_bucket_policy",
	"aws_s3_bucket_public_access_block",
	"aws_s3_bucket_server_side_encryption_configuration",
	"aws_s3_bucket_versioning",
	"aws_s3_object",
	"aws_secretsmanager_secret",
	"aws_secretsmanager_secret_policy",
	"aws_secretsmanager_secret_version",
	"aws_security_group",
	"aws_security_group_rule",
	"aws_sns_topic",
	"aws_sns_topic_policy",
	"aws_sqs_queue",
	"aws_sqs_queue_policy",
	"aws_subnet",
	"aws_vpc",
	"aws_vpc_endpoint",
	"aws_vpc_ipv4_cidr_block_association",
	"aws_vpc_security_group_ingress_rule",
	"aws_vpn_gateway",
}

violations contains violation("plan.unjudged_type", rc.address, msg) if {
	some rc in resources
	not rc.type in judged_types
	msg := sprintf("%s is a resource type these guardrails do not judge (what it can share, expose, grant or run): judge it in policies/terraform, then list it in judged_types", [rc.type])
}

# Provisioners run commands at apply, with the apply role, that no plan shows.
violations contains violation("plan.provisioner", address, msg) if {
	some address, r in config_resource
	some p in object.get(r.block, "provisioners", [])
	msg := sprintf("runs a %s provisioner at apply: a command the plan does not show, with the apply role's power", [p.type])
}

# --- environment ------------------------------------------------------------------------------

# The plan says which environment it is through the Environment tag its provider adds to every
# resource; a plan judged as one environment may not carry another's tag.
violations contains violation("plan.environment_mismatch", rc.address, msg) if {
	params.environment != ""
	some rc in resources
	tag := object.get(object.get(rc.change.after, "tags_all", {}), "Environment", null)
	is_string(tag)
	tag != params.environment
	msg := sprintf("tagged Environment = %q, but the plan is judged as %s: the rules of the wrong environment would apply", [tag, params.environment])
}
