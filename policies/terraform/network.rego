package terraform.guardrails

world := {"0.0.0.0/0", "::/0"}

# Only a load balancer's security group, tagged Role = "load-balancer", may admit the internet,
# and only on 80 or 443 over TCP.
lb_port(from, to, protocol) if {
	from == to
	from in {80, 443}
	protocol in {"tcp", "6"}
}

load_balancer_tagged(after) if after.tags.Role == "load-balancer"

open_cidrs(rule) := {c |
	some field in ["cidr_blocks", "ipv6_cidr_blocks"]
	some c in object.get(rule, field, [])
	c in world
}

port_text(from, to, protocol) := "all traffic" if protocol in {"-1", "all"}

port_text(from, to, protocol) := sprintf("%s %v-%v", [protocol, from, to]) if not protocol in {"-1", "all"}

# Inline ingress blocks of aws_security_group.
deny contains msg if {
	some rc in planned
	rc.type == "aws_security_group"
	some rule in object.get(rc.change.after, "ingress", [])
	open := open_cidrs(rule)
	count(open) > 0
	not world_ingress_allowed(rc.change.after, rule.from_port, rule.to_port, rule.protocol)
	msg := sprintf("%s: ingress %s is open to %s (only 80/443 of a load balancer may be)", [rc.address, port_text(rule.from_port, rule.to_port, rule.protocol), concat(", ", sort(open))])
}

world_ingress_allowed(after, from, to, protocol) if {
	load_balancer_tagged(after)
	lb_port(from, to, protocol)
}

# aws_vpc_security_group_ingress_rule carries its own tags.
deny contains msg if {
	some rc in planned
	rc.type == "aws_vpc_security_group_ingress_rule"
	after := rc.change.after
	some field in ["cidr_ipv4", "cidr_ipv6"]
	object.get(after, field, "") in world
	not world_ingress_allowed(after, object.get(after, "from_port", -1), object.get(after, "to_port", -1), after.ip_protocol)
	msg := sprintf("%s: ingress %s is open to %s (only 80/443 of a load balancer may be)", [rc.address, port_text(object.get(after, "from_port", -1), object.get(after, "to_port", -1), after.ip_protocol), after[field]])
}

# aws_security_group_rule has no tags, so the plan cannot tell a load balancer's group: refused.
deny contains msg if {
	some rc in planned
	rc.type == "aws_security_group_rule"
	rc.change.after.type == "ingress"
	open := open_cidrs(rc.change.after)
	count(open) > 0
	msg := sprintf("%s: ingress %s is open to %s (use an aws_vpc_security_group_ingress_rule tagged Role = load-balancer for 80/443)", [rc.address, port_text(rc.change.after.from_port, rc.change.after.to_port, rc.change.after.protocol), concat(", ", sort(open))])
}

# Every VPC the plan creates has a flow log whose vpc_id refers to it, in the same module.
module_prefix(path) := [sprintf("module.%s", [path[i + 1]]) | some i; path[i] == "module_calls"]

flow_logged_vpcs contains addr if {
	walk(input.configuration.root_module, [path, node])
	node.type == "aws_flow_log"
	node.mode == "managed"
	some ref in node.expressions.vpc_id.references
	startswith(ref, "aws_vpc.")
	parts := split(ref, ".")
	addr := concat(".", array.concat(module_prefix(path), [parts[0], parts[1]]))
}

deny contains msg if {
	some rc in planned
	rc.type == "aws_vpc"
	"create" in rc.change.actions
	not base_address(rc.address) in flow_logged_vpcs
	msg := sprintf("%s: the VPC has no flow log (add an aws_flow_log with vpc_id = %s.id in the same module)", [rc.address, base_address(rc.address)])
}
