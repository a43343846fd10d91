# Networks: what the internet can reach, how each subnet tier leaves the VPC, and what is logged.
package terraform.guardrails

# --- ingress from the internet ----------------------------------------------------------------

# Only a load balancer's security group, tagged Role = "load-balancer", may admit the internet,
# and only on 80 or 443 over TCP.
lb_port(from, to, protocol) if {
	from == to
	from in {80, 443}
	lower(sprintf("%v", [protocol])) in {"tcp", "6"}
}

load_balancer_tagged(after) if object.get(object.get(after, "tags", {}), "Role", "") == "load-balancer"

world_ingress_allowed(after, from, to, protocol) if {
	load_balancer_tagged(after)
	lb_port(from, to, protocol)
}

port_text(from, to, protocol) := "all traffic" if lower(sprintf("%v", [protocol])) in {"-1", "all"}

port_text(from, to, protocol) := sprintf("%v %v-%v", [protocol, from, to]) if not lower(sprintf("%v", [protocol])) in {"-1", "all"}

public_in(cidrs) := sort([c | some c in cidrs; public_cidr(c)])

# Inline ingress blocks of aws_security_group (and of aws_default_security_group, refused below
# for any rule at all).
violations contains violation("network.internet_ingress", rc.address, msg) if {
	some rc in of_type("aws_security_group")
	some rule in as_array(object.get(rc.change.after, "ingress", []))
	open := public_in(array.concat(as_array(object.get(rule, "cidr_blocks", [])), as_array(object.get(rule, "ipv6_cidr_blocks", []))))
	count(open) > 0
	not world_ingress_allowed(rc.change.after, rule.from_port, rule.to_port, rule.protocol)
	msg := sprintf("ingress %s is open to internet addresses %s (only 80/443 of a load balancer may be)", [port_text(rule.from_port, rule.to_port, rule.protocol), concat(", ", open)])
}

# aws_vpc_security_group_ingress_rule carries its own tags.
violations contains violation("network.internet_ingress", rc.address, msg) if {
	some rc in of_type("aws_vpc_security_group_ingress_rule")
	after := rc.change.after
	open := public_in([c | some f in ["cidr_ipv4", "cidr_ipv6"]; c := object.get(after, f, null); is_string(c)])
	count(open) > 0
	from := object.get(after, "from_port", -1)
	to := object.get(after, "to_port", -1)
	not world_ingress_allowed(after, from, to, after.ip_protocol)
	msg := sprintf("ingress %s is open to internet addresses %s (only 80/443 of a load balancer may be)", [port_text(from, to, after.ip_protocol), concat(", ", open)])
}

# aws_security_group_rule has no tags, so the plan cannot tell a load balancer's group: refused.
violations contains violation("network.internet_ingress", rc.address, msg) if {
	some rc in of_type("aws_security_group_rule")
	rc.change.after.type == "ingress"
	open := public_in(array.concat(as_array(object.get(rc.change.after, "cidr_blocks", [])), as_array(object.get(rc.change.after, "ipv6_cidr_blocks", []))))
	count(open) > 0
	msg := sprintf("ingress %s is open to internet addresses %s (use an aws_vpc_security_group_ingress_rule tagged Role = load-balancer for 80/443)", [port_text(rc.change.after.from_port, rc.change.after.to_port, rc.change.after.protocol), concat(", ", open)])
}

# A managed prefix list is a set of addresses the plan does not hold (an AWS list such as
# CloudFront's, or one made elsewhere that may hold 0.0.0.0/0): as a source it is judged like the
# internet. A prefix list of this plan (aws_ec2_managed_prefix_list) is refused as unjudged.
violations contains violation("network.prefix_list_ingress", rc.address, msg) if {
	some rc in of_type("aws_vpc_security_group_ingress_rule")
	after := rc.change.after
	prefix_list_source(rc, ["prefix_list_id"])
	from := object.get(after, "from_port", -1)
	to := object.get(after, "to_port", -1)
	not world_ingress_allowed(after, from, to, after.ip_protocol)
	msg := sprintf("ingress %s comes from a prefix list, whose addresses the plan cannot see (only 80/443 of a load balancer may admit them)", [port_text(from, to, after.ip_protocol)])
}

violations contains violation("network.prefix_list_ingress", rc.address, msg) if {
	some rc in of_type("aws_security_group")
	some i, rule in as_array(object.get(rc.change.after, "ingress", []))
	prefix_list_source(rc, ["ingress", i, "prefix_list_ids"])
	not world_ingress_allowed(rc.change.after, rule.from_port, rule.to_port, rule.protocol)
	msg := sprintf("ingress %s comes from a prefix list, whose addresses the plan cannot see (only 80/443 of a load balancer may admit them)", [port_text(rule.from_port, rule.to_port, rule.protocol)])
}

violations contains violation("network.prefix_list_ingress", rc.address, msg) if {
	some rc in of_type("aws_security_group_rule")
	rc.change.after.type == "ingress"
	prefix_list_source(rc, ["prefix_list_ids"])
	msg := sprintf("ingress %s comes from a prefix list, whose addresses the plan cannot see (use an aws_vpc_security_group_ingress_rule tagged Role = load-balancer for 80/443)", [port_text(rc.change.after.from_port, rc.change.after.to_port, rc.change.after.protocol)])
}

# A prefix list named, known at plan or not.
prefix_list_source(rc, path) if count([p | some p in as_array(value_at(rc, path)); p != ""]) > 0

prefix_list_source(rc, path) if {
	unknown_in(rc, path)
	expression_at(rc, path) != null
}

# A source network unknown at plan must be a VPC's or a subnet's own block.
violations contains violation("network.unknown_ingress_source", rc.address, msg) if {
	some [rc, path] in ingress_cidr_fields
	unknown_in(rc, path)
	expression_at(rc, path) != null
	not derived_from(rc, path, {"aws_vpc", "aws_subnet", "aws_vpc_ipv4_cidr_block_association"}, {"cidr_block", "ipv6_cidr_block"})
	msg := sprintf("the ingress source %s is unknown at plan and is not the block of a VPC or subnet of this plan", [concat(".", [sprintf("%v", [p]) | some p in path])])
}

ingress_cidr_fields contains [rc, [f]] if {
	some rc in of_type("aws_vpc_security_group_ingress_rule")
	some f in ["cidr_ipv4", "cidr_ipv6"]
}

ingress_cidr_fields contains [rc, ["cidr_blocks"]] if {
	some rc in of_type("aws_security_group_rule")
	rc.change.after.type == "ingress"
}

ingress_cidr_fields contains [rc, ["ingress", i, f]] if {
	some rc in of_type("aws_security_group")
	some i, _ in as_array(object.get(rc.change.after, "ingress", []))
	some f in ["cidr_blocks", "ipv6_cidr_blocks"]
}

# --- the VPC ----------------------------------------------------------------------------------

violations contains violation("network.vpc_public_cidr", rc.address, msg) if {
	some rc in of_type("aws_vpc")
	cidr := value_at(rc, ["cidr_block"])
	is_string(cidr)
	not private_cidr(cidr)
	msg := sprintf("the VPC's block %s is not private address space (10/8, 172.16/12, 192.168/16)", [cidr])
}

# Every VPC has its default security group managed here, with no rule: anything that falls back
# on it (an ENI created without a group) can neither be reached nor reach out.
violations contains violation("network.default_security_group", rc.address, msg) if {
	some rc in of_type("aws_default_security_group")
	rules := count(as_array(object.get(rc.change.after, "ingress", []))) + count(as_array(object.get(rc.change.after, "egress", [])))
	rules > 0
	msg := sprintf("the default security group keeps %d rule(s): it must have none", [rules])
}

violations contains violation("network.default_security_group", rc.address, msg) if {
	some rc in of_type("aws_default_security_group")
	some field in ["ingress", "egress"]
	unknown_in(rc, [field])
	msg := sprintf("the default security group's %s rules are unknown at plan", [field])
}

violations contains violation("network.default_security_group", vpc.address, msg) if {
	some vpc in of_type("aws_vpc")
	not vpc_has(vpc, "aws_default_security_group", ["vpc_id"])
	msg := sprintf("the VPC's default security group is not managed (add an aws_default_security_group with vpc_id = %s.id and no rules): by default it admits all traffic between its members and lets everything out", [base_address(vpc.address)])
}

# A resource of type refers to the VPC through path (same plan).
vpc_has(vpc, type, path) if {
	some rc in of_type(type)
	base_address(vpc.address) in referenced(rc, path, {"aws_vpc"})
}

vpc_has(vpc, type, path) if {
	some rc in of_type(type)
	vpc_id := value_at(rc, path)
	is_string(vpc_id)
	vpc_id == value_at(vpc, ["id"])
}

# --- flow logs --------------------------------------------------------------------------------

# A flow log that will exist (count = 0 plans none), of all traffic, for every VPC.
violations contains violation("network.flow_logs", vpc.address, msg) if {
	some vpc in of_type("aws_vpc")
	not vpc_flow_logged(vpc)
	msg := sprintf("the VPC has no flow log of all traffic (add an aws_flow_log with vpc_id = %s.id and traffic_type = ALL)", [base_address(vpc.address)])
}

vpc_flow_logged(vpc) if {
	some rc in of_type("aws_flow_log")
	value_at(rc, ["traffic_type"]) == "ALL"
	base_address(vpc.address) in referenced(rc, ["vpc_id"], {"aws_vpc"})
}

vpc_flow_logged(vpc) if {
	some rc in of_type("aws_flow_log")
	value_at(rc, ["traffic_type"]) == "ALL"
	is_string(value_at(vpc, ["id"]))
	value_at(rc, ["vpc_id"]) == value_at(vpc, ["id"])
}

violations contains violation("network.flow_logs", rc.address, msg) if {
	some rc in of_type("aws_flow_log")
	traffic := value_at(rc, ["traffic_type"])
	traffic != "ALL"
	msg := sprintf("the flow log records %v traffic only: rejected and accepted traffic both tell an attack", [traffic])
}

# --- subnet tiers -----------------------------------------------------------------------------
#
# Every subnet says its tier (tag Tier): public (NAT gateways and internet-facing load balancers
# only), private (workloads, out through NAT), data (databases, no route out of the VPC).

tiers := {"public", "private", "data"}

tier_of(subnet) := object.get(object.get(subnet.change.after, "tags", {}), "Tier", "")

violations contains violation("network.subnet_tier", rc.address, msg) if {
	some rc in of_type("aws_subnet")
	not tier_of(rc) in tiers
	msg := sprintf("the subnet has no Tier tag of public, private or data (got %q): the rules cannot tell what may reach it", [tier_of(rc)])
}

violations contains violation("network.public_ip_on_launch", rc.address, msg) if {
	some rc in of_type("aws_subnet")
	some field in ["map_public_ip_on_launch", "assign_ipv6_address_on_creation"]
	value_at(rc, [field]) == true
	msg := sprintf("%s = true: instances launched here get an address the internet can reach", [field])
}

# An Elastic IP is for a NAT gateway (which names it by allocation_id). One associated here with
# an instance or a network interface gives that address to whatever the interface belongs to (a
# node, an endpoint, a database's interface created elsewhere), past the subnets' tiers.
violations contains violation("network.public_address", rc.address, msg) if {
	some rc in of_type("aws_eip")
	some field in ["instance", "network_interface", "associate_with_private_ip"]
	associated_through(rc, field)
	msg := sprintf("the Elastic IP is associated through %s: a public address belongs to a NAT gateway only (its allocation_id)", [field])
}

# Written in the configuration (its value may be known only at apply), or a value in the plan
# (instance and network_interface are also computed: empty or unknown on an address of its own).
associated_through(rc, field) if expression_at(rc, [field]) != null

associated_through(rc, field) if {
	v := value_at(rc, [field])
	v != null
	v != ""
}

# --- endpoints to S3: this account's buckets only --------------------------------------------

# A gateway or interface endpoint to S3 without a policy reaches every bucket of every account:
# a compromised workload copies the data to its own bucket through it, past the NAT gateway and
# flow logs that see only AWS's addresses. Every Allow statement names its buckets, or holds on
# aws:ResourceAccount (aws:ResourceOrgID, aws:ResourceOrgPaths) with literal values.
s3_endpoint(rc) if endswith(value_at(rc, ["service_name"]), ".s3")

s3_endpoint(rc) if unknown_at(rc, ["service_name"])

violations contains violation("network.endpoint_policy", rc.address, msg) if {
	some rc in of_type("aws_vpc_endpoint")
	s3_endpoint(rc)
	not endpoint_policy_written(rc)
	msg := "the S3 endpoint has no policy: it reaches every bucket of every account (a way out for data); allow this account's buckets (aws:ResourceAccount) and the ones named"
}

violations contains violation("network.endpoint_policy", rc.address, msg) if {
	some rc in of_type("aws_vpc_endpoint")
	s3_endpoint(rc)
	some st in document_statements(rc, ["policy"])
	st.effect == "Allow"
	any_bucket(st)
	not held_to_accounts(st)
	msg := sprintf("statement %q allows every bucket of every account (resources %v): name the buckets or hold it on aws:ResourceAccount", [st.sid, st.resources])
}

violations contains violation("network.endpoint_policy", rc.address, why) if {
	some rc in of_type("aws_vpc_endpoint")
	s3_endpoint(rc)
	endpoint_policy_written(rc)
	some why in document_problems(rc, ["policy"])
}

# Without a policy in the configuration (or with policy = null) the endpoint gets AWS's default,
# full access.
endpoint_policy_written(rc) if {
	e := expression_at(rc, ["policy"])
	e != null
	object.get(e, "constant_value", "") != null
}

endpoint_policy_written(rc) if {
	not unknown_at(rc, ["policy"])
	value_at(rc, ["policy"]) != null
	value_at(rc, ["policy"]) != ""
}

any_bucket(st) if st.not_resource

any_bucket(st) if {
	some r in st.resources
	not regex.match(`^arn:[^:]+:s3:::[^*?/]+(/.*)?$`, r)
}

held_to_accounts(st) if {
	some c in st.conditions
	lower(c.key) in {"aws:resourceaccount", "aws:resourceorgid", "aws:resourceorgpaths"}
	lower(c.op) in {"stringequals", "stringlike", "forallvalues:stringequals", "forallvalues:stringlike", "foranyvalue:stringequals", "foranyvalue:stringlike"}
	count(c.values) > 0
	every v in c.values {
		is_string(v)
		not contains(v, "*")
		not contains(v, "?")
		not contains(v, "$")
	}
}

# Route tables and the subnets associated with them (at the granularity of the plan's
# addresses: every instance of an association counts for every instance it refers to).
subnets_of_table(table) := {subnet |
	some assoc in of_type("aws_route_table_association")
	base_address(table.address) in referenced(assoc, ["route_table_id"], {"aws_route_table", "aws_default_route_table"})
	some address in referenced(assoc, ["subnet_id"], {"aws_subnet"})
	some subnet in at_base(address)
}

# [route table, destination, target kind, route address] for aws_route and inline routes.
routes contains [table, dest, target, rc.address] if {
	some rc in of_type("aws_route")
	some address in referenced(rc, ["route_table_id"], {"aws_route_table", "aws_default_route_table"})
	some table in at_base(address)
	some field in ["destination_cidr_block", "destination_ipv6_cidr_block"]
	dest := value_at(rc, [field])
	is_string(dest)
	target := route_target(rc.change.after, rc)
}

routes contains [rc, dest, target, rc.address] if {
	some rc in resources
	rc.type in {"aws_route_table", "aws_default_route_table"}
	some r in as_array(object.get(rc.change.after, "route", []))
	some field in ["cidr_block", "ipv6_cidr_block"]
	dest := object.get(r, field, "")
	dest != ""
	target := inline_target(r)
}

route_target(after, rc) := "internet gateway" if {
	some f in ["gateway_id"]
	gateway_ref(rc, after, f)
}

route_target(after, rc) := "NAT gateway" if {
	not gateway_ref(rc, after, "gateway_id")
	object.get(after, "nat_gateway_id", null) != null
}

route_target(after, rc) := "NAT gateway" if {
	not gateway_ref(rc, after, "gateway_id")
	unknown_in(rc, ["nat_gateway_id"])
}

route_target(after, rc) := "egress-only internet gateway" if {
	not gateway_ref(rc, after, "gateway_id")
	not object.get(after, "nat_gateway_id", null)
	not unknown_in(rc, ["nat_gateway_id"])
	object.get(after, "egress_only_gateway_id", null) != null
}

route_target(after, rc) := "another target" if {
	not gateway_ref(rc, after, "gateway_id")
	not object.get(after, "nat_gateway_id", null)
	not unknown_in(rc, ["nat_gateway_id"])
	not object.get(after, "egress_only_gateway_id", null)
}

gateway_ref(rc, after, f) if startswith(object.get(after, f, ""), "igw-")

gateway_ref(rc, _, f) if {
	unknown_in(rc, [f])
	count(referenced(rc, [f], {"aws_internet_gateway"})) > 0
}

# Unknown and not provably something else: counts as the internet (fail closed).
gateway_ref(rc, _, f) if {
	unknown_in(rc, [f])
	expression_at(rc, [f]) != null
	count(referenced(rc, [f], {"aws_internet_gateway"})) == 0
	not derived_from(rc, [f], {"aws_vpc_endpoint", "aws_ec2_transit_gateway", "aws_vpn_gateway"}, {"id", ""})
}

inline_target(r) := "internet gateway" if startswith(object.get(r, "gateway_id", ""), "igw-")

inline_target(r) := "NAT gateway" if {
	not startswith(object.get(r, "gateway_id", ""), "igw-")
	object.get(r, "nat_gateway_id", "") != ""
}

inline_target(r) := "another target" if {
	not startswith(object.get(r, "gateway_id", ""), "igw-")
	object.get(r, "nat_gateway_id", "") == ""
}

# Data subnets never leave the VPC: no route of theirs goes anywhere but inside it.
violations contains violation("network.data_tier_egress", address, msg) if {
	some [table, dest, target, address] in routes
	some subnet in subnets_of_table(table)
	tier_of(subnet) == "data"
	msg := sprintf("routes %s through a %s from the data subnet %s: the data tier has no route out of the VPC", [dest, target, subnet.address])
}

# Only public subnets reach the internet gateway (IPv4 or IPv6): anything else there is on the
# internet in both directions.
violations contains violation("network.internet_route_from_private_tier", address, msg) if {
	some [table, dest, target, address] in routes
	target == "internet gateway"
	some subnet in subnets_of_table(table)
	tier_of(subnet) != "public"
	msg := sprintf("routes %s to the internet gateway from the %s subnet %s: only public subnets may", [dest, tier_of(subnet), subnet.address])
}

# --- EKS subnets ------------------------------------------------------------------------------

# The cluster's interfaces and its nodes are placed in private subnets only.
violations contains violation("network.workloads_in_public_subnets", rc.address, msg) if {
	some [rc, path] in workload_subnet_fields
	some address in referenced(rc, path, {"aws_subnet"})
	some subnet in at_base(address)
	tier_of(subnet) != "private"
	msg := sprintf("placed in the %s subnet %s: the cluster and its nodes belong in private subnets", [tier_of(subnet), subnet.address])
}

violations contains violation("network.workloads_in_public_subnets", rc.address, msg) if {
	some [rc, path] in workload_subnet_fields
	unknown_in(rc, path)
	not derived_from(rc, path, {"aws_subnet"}, {"id", ""})
	msg := "its subnets are unknown at plan and are not subnets of this plan: nothing shows they are private"
}

workload_subnet_fields contains [rc, ["vpc_config", 0, "subnet_ids"]] if some rc in of_type("aws_eks_cluster")

workload_subnet_fields contains [rc, ["subnet_ids"]] if some rc in of_type("aws_eks_node_group")

workload_subnet_fields contains [rc, ["subnet_ids"]] if some rc in of_type("aws_eks_fargate_profile")
