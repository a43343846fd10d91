# EKS: a private API, encrypted Secrets, the audit log, nodes without the node role for pods,
# and no cluster-admin for CI (the article's incident, one layer down).
package terraform.guardrails

violations contains violation("cluster.public_endpoint", rc.address, msg) if {
	some rc in of_type("aws_eks_cluster")
	vpc := object.get(rc.change.after, ["vpc_config", 0], {})
	object.get(vpc, "endpoint_public_access", true) != false
	production
	msg := "production keeps the Kubernetes API private (endpoint_public_access = false)"
}

violations contains violation("cluster.public_endpoint", rc.address, msg) if {
	some rc in of_type("aws_eks_cluster")
	not production
	vpc := object.get(rc.change.after, ["vpc_config", 0], {})
	object.get(vpc, "endpoint_public_access", true) != false
	not named_networks_only(rc)
	msg := "the public API endpoint is not limited to named networks (public_access_cidrs known at plan, none wider than /16, not the internet)"
}

named_networks_only(rc) if {
	not unknown_in(rc, ["vpc_config", 0, "public_access_cidrs"])
	cidrs := as_array(object.get(rc.change.after, ["vpc_config", 0, "public_access_cidrs"], null))
	count(cidrs) > 0
	every c in cidrs {
		valid_cidr(c)
		to_number(split(c, "/")[1]) >= prefix_floor(c)
	}
}

# No network wider than a /16 (IPv4) or a /48 (IPv6): EKS would otherwise open the API to 0/0.
prefix_floor(c) := 48 if ipv6(c)

prefix_floor(c) := 16 if not ipv6(c)

violations contains violation("cluster.secrets_encryption", rc.address, msg) if {
	some rc in of_type("aws_eks_cluster")
	not secrets_encrypted(rc)
	msg := "Kubernetes Secrets are not envelope-encrypted with a key of this stack (encryption_config with resources = [\"secrets\"])"
}

secrets_encrypted(rc) if {
	some i, cfg in as_array(object.get(rc.change.after, "encryption_config", []))
	"secrets" in as_array(object.get(cfg, "resources", []))
	customer_key(rc, ["encryption_config", i, "provider", 0, "key_arn"])
}

violations contains violation("cluster.audit_logs", rc.address, msg) if {
	some rc in of_type("aws_eks_cluster")
	logs := as_array(object.get(rc.change.after, "enabled_cluster_log_types", []))
	missing := [t | some t in ["api", "audit", "authenticator"]; not t in logs]
	count(missing) > 0
	msg := sprintf("the control plane does not send its %s log(s): who did what in the cluster would be lost", [concat(", ", missing)])
}

violations contains violation("cluster.access_entries_only", rc.address, msg) if {
	some rc in of_type("aws_eks_cluster")
	mode := object.get(rc.change.after, ["access_config", 0, "authentication_mode"], "CONFIG_MAP")
	mode != "API"
	msg := sprintf("authentication_mode = %v: access must go through access entries (API), which the plan shows, not the aws-auth ConfigMap, which it does not", [mode])
}

violations contains violation("cluster.creator_admin", rc.address, msg) if {
	some rc in of_type("aws_eks_cluster")
	object.get(rc.change.after, ["access_config", 0, "bootstrap_cluster_creator_admin_permissions"], true) != false
	msg := "the cluster's creator gets an implicit cluster-admin (bootstrap_cluster_creator_admin_permissions must be false)"
}

# --- nodes: no SSH ----------------------------------------------------------------------------

# A node group's remote_access installs an SSH key and, without source security groups, opens port
# 22 of every node to the internet through a security group EKS creates (which no rule of the plan
# sees). Nodes are reached through the API (kubectl debug node) or SSM, never SSH.
violations contains violation("cluster.node_ssh", ng.address, msg) if {
	some ng in of_type("aws_eks_node_group")
	count(as_array(object.get(ng.change.after, "remote_access", []))) > 0
	msg := "the node group allows SSH (remote_access): with no source security group EKS opens port 22 of every node to the internet; reach nodes through kubectl debug or SSM"
}

violations contains violation("cluster.node_ssh", rc.address, msg) if {
	some rc in of_type("aws_launch_template")
	node_template(rc)
	key := object.get(rc.change.after, "key_name", null)
	key != null
	key != ""
	msg := sprintf("the node template installs the SSH key %q: reach nodes through kubectl debug or SSM", [key])
}

violations contains violation("cluster.node_ssh", rc.address, msg) if {
	some rc in of_type("aws_launch_template")
	node_template(rc)
	unknown_at(rc, ["key_name"])
	msg := "the node template installs an SSH key known only at apply: reach nodes through kubectl debug or SSM"
}

# --- nodes: IMDSv2, hop limit 1 ---------------------------------------------------------------

violations contains violation("cluster.node_metadata", rc.address, msg) if {
	some rc in of_type("aws_launch_template")
	node_template(rc)
	md := object.get(rc.change.after, ["metadata_options", 0], {})
	not imds_locked(md)
	msg := sprintf("node metadata options %v: nodes must require IMDSv2 tokens with a hop limit of 1, or every pod can take the node's role", [json.marshal(md)])
}

imds_locked(md) if {
	md.http_tokens == "required"
	md.http_put_response_hop_limit == 1
}

imds_locked(md) if md.http_endpoint == "disabled"

# A launch template used by a node group of this plan, or any template of a plan with a cluster.
node_template(rc) if {
	some ng in of_type("aws_eks_node_group")
	base_address(rc.address) in referenced(ng, ["launch_template", 0, "id"], {"aws_launch_template"})
}

node_template(rc) if {
	some ng in of_type("aws_eks_node_group")
	base_address(rc.address) in referenced(ng, ["launch_template", 0, "name"], {"aws_launch_template"})
}

node_template(rc) if count(of_type("aws_eks_cluster")) > 0

violations contains violation("cluster.node_metadata", ng.address, msg) if {
	some ng in of_type("aws_eks_node_group")
	count(as_array(object.get(ng.change.after, "launch_template", []))) == 0
	msg := "the node group has no launch template: EKS's default lets pods reach the instance metadata (hop limit 2)"
}

violations contains violation("cluster.node_metadata", ng.address, msg) if {
	some ng in of_type("aws_eks_node_group")
	count(as_array(object.get(ng.change.after, "launch_template", []))) > 0
	not own_template(ng)
	msg := "the node group's launch template is not one of this plan: its metadata options cannot be judged"
}

own_template(ng) if count(referenced(ng, ["launch_template", 0, "id"], {"aws_launch_template"})) > 0

own_template(ng) if count(referenced(ng, ["launch_template", 0, "name"], {"aws_launch_template"})) > 0

# --- access entries ---------------------------------------------------------------------------

admin_access_policies := {"AmazonEKSClusterAdminPolicy", "AmazonEKSAdminPolicy", "AmazonEKSAdminViewPolicy"}

access_policy_name(arn) := regex.replace(arn, `^.*cluster-access-policy/`, "")

# The roles of this plan that GitHub Actions can assume (trusted through the GitHub OIDC issuer).
ci_roles contains role if {
	some role in of_type("aws_iam_role")
	some [address, _, _, issuer] in federated_statements
	address == role.address
	issuer == github_host
}

# The entry's principal is a CI role: it refers to one, or names one (by ARN) of this plan.
ci_principal(rc) if {
	some address in referenced(rc, ["principal_arn"], {"aws_iam_role"})
	some role in ci_roles
	base_address(role.address) == address
}

ci_principal(rc) if {
	arn := value_at(rc, ["principal_arn"])
	is_string(arn)
	some role in ci_roles
	role_named(role, arn)
}

violations contains violation("cluster.ci_cluster_admin", rc.address, msg) if {
	some rc in of_type("aws_eks_access_policy_association")
	access_policy_name(value_at(rc, ["policy_arn"])) in admin_access_policies
	ci_principal(rc)
	msg := sprintf("gives %s to a role GitHub Actions assume: CI deploys into one namespace through the ci-deployer Role, never as an administrator", [access_policy_name(value_at(rc, ["policy_arn"]))])
}

violations contains violation("cluster.ci_cluster_admin", rc.address, msg) if {
	some rc in of_type("aws_eks_access_entry")
	ci_principal(rc)
	some group in as_array(object.get(rc.change.after, "kubernetes_groups", []))
	startswith(group, "system:")
	msg := sprintf("maps a role GitHub Actions assume to the group %q", [group])
}

# Who enters the cluster at all: a principal of this account, as a person or a workload
# (STANDARD); the nodes' entries are EKS's own, made for the node groups. A role of another
# account, or any role registered as a node (EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, HYBRID_LINUX:
# the group system:nodes, the kubelet's credentials), is refused, and so are the cluster's own
# groups (system:, eks:), which EKS refuses at apply.
violations contains violation("cluster.access_principal", rc.address, msg) if {
	some rc in resources
	rc.type in {"aws_eks_access_entry", "aws_eks_access_policy_association"}
	p := value_at(rc, ["principal_arn"])
	foreign_principal(p)
	msg := sprintf("lets %s, of another account than %s, into the cluster", [p, concat(", ", sort(own_accounts))])
}

violations contains violation("cluster.access_principal", rc.address, msg) if {
	some rc in of_type("aws_eks_access_entry")
	t := object.get(rc.change.after, "type", null)
	is_string(t)
	t != "STANDARD"
	msg := sprintf("registers its principal as a node (%s, the group system:nodes): the node groups' entries are EKS's own", [t])
}

violations contains violation("cluster.access_principal", rc.address, msg) if {
	some rc in of_type("aws_eks_access_entry")
	some group in as_array(object.get(rc.change.after, "kubernetes_groups", []))
	regex.match(`^(system|eks)[:-]`, group)
	msg := sprintf("maps its principal to the cluster's own group %q", [group])
}

violations contains violation("cluster.unknown_access_principal", rc.address, msg) if {
	some rc in resources
	rc.type in {"aws_eks_access_entry", "aws_eks_access_policy_association"}
	unknown_in(rc, ["principal_arn"])
	not derived_from(rc, ["principal_arn"], {"aws_iam_role", "aws_eks_access_entry"}, {"arn", "principal_arn", ""})
	msg := "the principal is unknown at plan and is not a role (or entry) of this plan: who gets in cannot be judged"
}

# An association whose principal is the principal of an entry: follow it to the entry's role.
violations contains violation("cluster.ci_cluster_admin", rc.address, msg) if {
	some rc in of_type("aws_eks_access_policy_association")
	access_policy_name(value_at(rc, ["policy_arn"])) in admin_access_policies
	not ci_principal(rc)
	some address in referenced(rc, ["principal_arn"], {"aws_eks_access_entry"})
	some entry in at_base(address)
	ci_principal(entry)
	msg := sprintf("gives %s to a role GitHub Actions assume (through %s)", [access_policy_name(value_at(rc, ["policy_arn"])), entry.address])
}
