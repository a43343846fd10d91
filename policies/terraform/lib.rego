# The vocabulary the rules reason with: ARNs, networks, IAM actions and principals.
package terraform.guardrails

# --- ARNs -------------------------------------------------------------------------------------

# arn:partition:service:region:account:resource (the resource part may hold ":" and "/").
parse_arn(s) := {
	"partition": p[1],
	"service": p[2],
	"region": p[3],
	"account": p[4],
	"resource": concat(":", array.slice(p, 5, count(p))),
} if {
	is_string(s)
	p := split(s, ":")
	count(p) >= 6
	p[0] == "arn"
}

# A value the plan does not know yet but that provably names one resource this plan creates
# (see iam_documents.rego): specific by construction.
placeholder(s) if startswith(s, "(known after apply")

wildcard(s) if contains(s, "*")

wildcard(s) if regex.match(`^\?+$`, s)

# The part of an ARN's resource that names the resource, without its type: "role/app" -> "app",
# "secret:x-??????" -> "x-??????", "key/*" -> "*"; for S3 the whole "bucket/key".
resource_rest(service, res) := res if service == "s3"

resource_rest(service, res) := substring(res, i + 1, -1) if {
	service != "s3"
	i := indexof_any(res)
	i >= 0
}

resource_rest(service, res) := res if {
	service != "s3"
	indexof_any(res) < 0
}

indexof_any(s) := min([i | some sep in ["/", ":"]; i := indexof(s, sep); i >= 0]) if regex.match(`[/:]`, s)

indexof_any(s) := -1 if not regex.match(`[/:]`, s)

# Its first segment is what tells one resource from another: a wildcard there ("role/*",
# "role/app-*", "*/*", "secret:*", a bucket "*") matches many.
first_segment(rest) := regex.split(`[/:]`, trim_left(rest, "/"))[0]

# A Resource element that matches more than one specific thing: "*", any service, any account,
# or a wildcard where the resource's identity goes. Anything that is not an ARN is unbounded too
# (IAM would refuse it; fail closed).
unbounded_resource(r) if r == "*"

unbounded_resource(r) if {
	not placeholder(r)
	not parse_arn(r)
	r != "*"
}

unbounded_resource(r) if wildcard(parse_arn(r).service)

unbounded_resource(r) if wildcard(parse_arn(r).account)

unbounded_resource(r) if {
	a := parse_arn(r)
	wildcard(first_segment(resource_rest(a.service, a.resource)))
}

unbounded_resource(r) if {
	a := parse_arn(r)
	regex.match(`^[*?]`, resource_rest(a.service, a.resource))
}

# --- accounts and principals ------------------------------------------------------------------

# The account an AWS principal belongs to: a 12-digit id or an ARN's account.
principal_account(p) := p if regex.match(`^[0-9]{12}$`, p)

principal_account(p) := parse_arn(p).account if parse_arn(p).account != ""

foreign_principal(p) if {
	is_string(p)
	not placeholder(p)
	p != "*"
	account := principal_account(p)
	not account in own_accounts
}

# An AWS principal that is not an account, role or user of a known account: a wildcard ARN
# (arn:aws:iam::*:root, arn:aws:iam::111111111111:role/*) or something unparseable.
fuzzy_principal(p) if {
	is_string(p)
	p != "*"
	not placeholder(p)
	not principal_account(p)
}

fuzzy_principal(p) if {
	is_string(p)
	a := parse_arn(p)
	wildcard(a.resource)
}

# --- networks ---------------------------------------------------------------------------------

# Address space that is not the internet's: RFC 1918, shared (carrier-grade NAT) space, and IPv6
# unique local addresses. Anything else an ingress admits is a piece of the internet, however
# it is cut (0.0.0.0/0, its two halves, a dozen /8s, a single public /32, 0::/0, 2000::/3).
private_networks := ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"]

private_cidr(c) if {
	some network in private_networks
	net.cidr_contains(network, c)
}

public_cidr(c) if {
	is_string(c)
	c != ""
	valid_cidr(c)
	not private_cidr(c)
}

# A malformed CIDR is refused like a public one (fail closed); AWS would refuse it anyway.
public_cidr(c) if {
	is_string(c)
	c != ""
	not valid_cidr(c)
}

valid_cidr(c) if net.cidr_is_valid(c)

# The whole internet (any default route): /0 in either family, however it is written.
default_route(c) if {
	is_string(c)
	valid_cidr(c)
	endswith(c, "/0")
}

ipv6(c) if contains(c, ":")

# --- IAM actions ------------------------------------------------------------------------------
#
# A small catalogue, by what an action can do rather than how it is spelt. A pattern belongs to
# a class when it matches any action of the class (so "iam:Put*", "iam:*Policy*" and "*" are all
# privilege-escalating). IAM action names are case-insensitive.

# Actions that give a principal more power than it has, whatever the resource.
escalating_actions := {
	"iam:addusertogroup", "iam:attachgrouppolicy", "iam:attachrolepolicy", "iam:attachuserpolicy",
	"iam:createaccesskey", "iam:createloginprofile", "iam:createpolicy", "iam:createpolicyversion",
	"iam:createrole", "iam:createuser", "iam:deleterolepermissionsboundary",
	"iam:deleteuserpermissionsboundary", "iam:putgrouppolicy", "iam:putrolepermissionsboundary",
	"iam:putrolepolicy", "iam:putuserpermissionsboundary", "iam:putuserpolicy",
	"iam:setdefaultpolicyversion", "iam:updateassumerolepolicy", "iam:updateloginprofile",
	"iam:createservicespecificcredential", "iam:uploadsshpublickey",
	"sts:assumeroot", "kms:putkeypolicy", "s3:putbucketpolicy", "s3:putbucketacl",
	"secretsmanager:putresourcepolicy", "ecr:setrepositorypolicy", "ecr:putregistrypolicy",
	"eks:associateaccesspolicy", "eks:createaccessentry", "eks:updateaccessentry",
	"lambda:addpermission", "lambda:createfunction", "lambda:updatefunctioncode",
	"lambda:updatefunctionconfiguration", "ssm:sendcommand", "ssm:startsession",
	"ec2-instance-connect:sendsshpublickey", "glue:createdevendpoint", "glue:updatedevendpoint",
	"cloudformation:createstack", "cloudformation:updatestack", "codebuild:startbuild",
	"organizations:leaveorganization", "cloudtrail:stoplogging", "cloudtrail:deletetrail",
	"cloudtrail:updatetrail", "cloudtrail:puteventselectors",
}

# Actions that hand a principal another identity or a key: safe on one named role or key only.
escalating_when_unbounded := {"iam:passrole", "sts:assumerole", "sts:assumerolewithwebidentity", "kms:creategrant"}

# Reads that return data, secrets or credentials rather than configuration.
sensitive_reads := {
	"secretsmanager:getsecretvalue", "secretsmanager:batchgetsecretvalue", "ssm:getparameter",
	"ssm:getparameters", "ssm:getparametersbypath", "ssm:getparameterhistory", "kms:decrypt",
	"s3:getobject", "s3:getobjectversion", "dynamodb:getitem", "dynamodb:batchgetitem",
	"dynamodb:query", "dynamodb:scan", "lambda:getfunction", "rds:downloaddblogfileportion",
	"logs:getlogevents", "logs:filterlogevents", "sts:getfederationtoken", "sts:getsessiontoken",
	"ecr:getdownloadurlforlayer", "ecr:batchgetimage",
}

matches_action(pattern, action) if glob.match(lower(pattern), [], action)

every_action(pattern) if pattern == "*"

every_action(pattern) if endswith(pattern, ":*")

escalating(pattern) if {
	some a in escalating_actions
	matches_action(pattern, a)
}

escalating_on_unbounded(pattern) if {
	some a in escalating_when_unbounded
	matches_action(pattern, a)
}

sensitive_read(pattern) if {
	some a in sensitive_reads
	matches_action(pattern, a)
}

# A read verb, wildcards included ("Get*", "Describe*"); anything else (a verb starting with a
# wildcard, "G*", Put, Create ...) may write.
read_action(pattern) if regex.match(`^[a-z0-9-]+:(get|list|describe|batchget|head|view|search|lookup|query)[a-z0-9*?]*$`, lower(pattern))

# Reads of data named exactly (kms:Decrypt is one: it returns plaintext, it changes nothing).
read_action(pattern) if lower(pattern) in sensitive_reads

write_action(pattern) if not read_action(pattern)

# AWS-managed policies that amount to administration (every action, or IAM itself).
admin_managed_policy(arn) if {
	a := parse_arn(arn)
	a.service == "iam"
	a.account == "aws"
	name := regex.replace(a.resource, `^policy/(.*/)?`, "")
	admin_policy_name(name)
}

admin_policy_name(name) if name in {"AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "AWSOrganizationsFullAccess", "AdministratorAccess-Amplify", "AdministratorAccess-AWSElasticBeanstalk"}

admin_policy_name(name) if endswith(name, "FullAccess")

# AWS-managed policies that only read (configuration and, for ReadOnlyAccess, data).
read_only_managed_policy(arn) if {
	a := parse_arn(arn)
	a.account == "aws"
	regex.replace(a.resource, `^policy/(.*/)?`, "") in {"ReadOnlyAccess", "ViewOnlyAccess", "SecurityAudit"}
}

# --- conditions -------------------------------------------------------------------------------

# Operators that pin a key to exactly the values listed (no IfExists: a missing key passes those).
exact_operators := {"stringequals", "stringequalsignorecase", "arnequals", "numericequals", "bool"}

# Operators that pin a key to patterns; exact when the values hold no wildcard.
pattern_operators := {"stringlike", "arnlike"}

restricting_condition(c) if {
	lower(c.op) in exact_operators
	count(c.values) > 0
}

restricting_condition(c) if {
	lower(c.op) in pattern_operators
	count(c.values) > 0
	every v in c.values {
		is_string(v)
		not wildcard_only(v)
	}
}

wildcard_only(v) if regex.match(`^[*?]*$`, v)

exact_condition(c) if {
	lower(c.op) in (exact_operators | pattern_operators)
	count(c.values) > 0
	every v in c.values {
		is_string(v)
		not contains(v, "*")
	}
}
