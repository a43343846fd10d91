# IAM: what identity policies allow, who trust policies let in, and what is attached to whom.
package terraform.guardrails

statement_name(st, i) := sprintf("statement %q", [st.sid]) if st.sid != ""

statement_name(st, i) := sprintf("statement %d", [i]) if st.sid == ""

allows(st) if st.effect == "Allow"

# --- identity policies ------------------------------------------------------------------------

identity_statements contains [doc.address, i, st] if {
	some doc in documents
	doc.kind == "identity"
	some i, st in doc.statements
	allows(st)
}

violations contains violation("iam.every_action", address, msg) if {
	some [address, i, st] in identity_statements
	some a in st.actions
	every_action(a)
	msg := sprintf("%s allows every action of %q", [statement_name(st, i), a])
}

violations contains violation("iam.not_action", address, msg) if {
	some [address, i, st] in identity_statements
	st.not_action
	msg := sprintf("%s allows with NotAction (everything but a list)", [statement_name(st, i)])
}

violations contains violation("iam.not_resource", address, msg) if {
	some [address, i, st] in identity_statements
	st.not_resource
	msg := sprintf("%s allows with NotResource (everything but a list)", [statement_name(st, i)])
}

violations contains violation("iam.privilege_escalation", address, msg) if {
	some [address, i, st] in identity_statements
	found := [a | some a in st.actions; escalating(a)]
	count(found) > 0
	msg := sprintf("%s allows %s, which can grant more power than it has (IAM, policies, access entries, code execution, the audit trail)", [statement_name(st, i), concat(", ", found)])
}

violations contains violation("iam.privilege_escalation", address, msg) if {
	some [address, i, st] in identity_statements
	found := [a | some a in st.actions; escalating_on_unbounded(a); not escalating(a)]
	count(found) > 0
	wide := [r | some r in st.resources; unbounded_resource(r)]
	count(wide) > 0
	msg := sprintf("%s allows %s on %s: any role or key, not a named one", [statement_name(st, i), concat(", ", found), concat(", ", wide)])
}

violations contains violation("iam.write_everywhere", address, msg) if {
	some [address, i, st] in identity_statements
	writes := [a | some a in st.actions; write_action(a)]
	count(writes) > 0
	wide := [r | some r in st.resources; unbounded_resource(r)]
	count(wide) > 0
	msg := sprintf("%s allows write actions (%s) on unbounded resources (%s)", [statement_name(st, i), concat(", ", writes), concat(", ", wide)])
}

violations contains violation("iam.data_read_everywhere", address, msg) if {
	some [address, i, st] in identity_statements
	reads := [a | some a in st.actions; read_action(a); sensitive_read(a)]
	count(reads) > 0
	wide := [r | some r in st.resources; unbounded_resource(r)]
	count(wide) > 0
	not narrowed_to_data(st)
	msg := sprintf("%s allows reading data, secrets or credentials (%s) on unbounded resources (%s)", [statement_name(st, i), concat(", ", reads), concat(", ", wide)])
}

# kms:Decrypt on key/* is narrowed to one piece of data by an exact encryption context.
narrowed_to_data(st) if {
	some c in st.conditions
	startswith(lower(c.key), "kms:encryptioncontext:")
	exact_condition(c)
}

# --- managed policies -------------------------------------------------------------------------

attachment_types := {"aws_iam_role_policy_attachment", "aws_iam_policy_attachment", "aws_iam_user_policy_attachment", "aws_iam_group_policy_attachment"}

# [address, policy ARN or null (unknown), the attachment] of every managed policy attached.
attached_policies contains [rc.address, arn, rc] if {
	some rc in resources
	rc.type in attachment_types
	arn := value_at(rc, ["policy_arn"])
}

attached_policies contains [rc.address, arn, rc] if {
	some rc in of_type("aws_iam_role")
	some arn in as_array(object.get(rc.change.after, "managed_policy_arns", null))
}

attached_policies contains [rc.address, arn, rc] if {
	some rc in of_type("aws_iam_role_policy_attachments_exclusive")
	some arn in as_array(object.get(rc.change.after, "policy_arns", null))
}

violations contains violation("iam.admin_managed_policy", address, msg) if {
	some [address, arn, _] in attached_policies
	admin_managed_policy(arn)
	msg := sprintf("attaches %s, an AWS-managed policy that amounts to administration", [arn])
}

# An attached policy unknown at plan must be a customer-managed policy of this plan (whose own
# document the rules judge).
violations contains violation("iam.unknown_attachment", rc.address, msg) if {
	some rc in resources
	rc.type in attachment_types
	unknown_in(rc, ["policy_arn"])
	not derived_from(rc, ["policy_arn"], {"aws_iam_policy"}, {"arn", "id", ""})
	msg := "the attached policy is unknown at plan and is not an aws_iam_policy of this plan: it cannot be judged"
}

# --- users and keys ---------------------------------------------------------------------------

violations contains violation("iam.user_or_key", rc.address, msg) if {
	some rc in resources
	rc.type in {"aws_iam_user", "aws_iam_access_key", "aws_iam_user_login_profile", "aws_iam_service_specific_credential", "aws_iam_user_ssh_key"}
	msg := "IAM users and long-lived credentials are not allowed (use roles: SSO for people, OIDC for CI)"
}

# --- which role a policy belongs to -----------------------------------------------------------

role_policy_types := {"aws_iam_role_policy", "aws_iam_role_policy_attachment"}

# [policy or attachment address, role address].
role_links contains [pol.address, role.address] if {
	some pol in resources
	pol.type in role_policy_types
	name := value_at(pol, ["role"])
	is_string(name)
	some role in of_type("aws_iam_role")
	role_named(role, name)
}

role_links contains [pol.address, role.address] if {
	some pol in resources
	pol.type in role_policy_types
	unknown_in(pol, ["role"])
	some address in referenced(pol, ["role"], {"aws_iam_role"})
	some role in at_base(address)
}

role_named(role, name) if value_at(role, ["name"]) == name

role_named(role, arn) if {
	parse_arn(arn).service == "iam"
	endswith(arn, concat("", [":role/", value_at(role, ["name"])]))
}

violations contains violation("iam.unlinked_role_policy", pol.address, msg) if {
	some pol in resources
	pol.type in role_policy_types
	unknown_in(pol, ["role"])
	not derived_from(pol, ["role"], {"aws_iam_role"}, {"name", "id", "arn", "unique_id", ""})
	msg := "the role is unknown at plan and is not a role of this plan: nothing can tell whose power this adds to"
}

# The statements that give a role its power, and the managed policies it holds.
role_statements(role) := {st |
	some doc in documents
	doc.kind == "identity"
	doc.address == role.address
	some st in doc.statements
} | {st |
	some [pol, r] in role_links
	r == role.address
	some doc in documents
	doc.address == pol
	some st in doc.statements
}

role_managed_policies(role) := {arn |
	some [address, arn, _] in attached_policies
	address == role.address
} | {arn |
	some [pol, r] in role_links
	r == role.address
	some [address, arn, _] in attached_policies
	address == pol
}

# A role that can change something: any Allow of a write, NotAction, or every action; any
# managed policy that is not read-only, or that the plan cannot show.
powerful(role) if {
	some st in role_statements(role)
	allows(st)
	some a in st.actions
	write_action(a)
}

powerful(role) if {
	some st in role_statements(role)
	allows(st)
	st.not_action
}

powerful(role) if {
	some arn in role_managed_policies(role)
	not read_only_managed_policy(arn)
}

# --- trust policies ---------------------------------------------------------------------------

trust_statements contains [doc.address, i, st] if {
	some doc in documents
	doc.kind == "trust"
	some i, st in doc.statements
	allows(st)
}

violations contains violation("iam.trust_any_principal", address, msg) if {
	some [address, i, st] in trust_statements
	some p in st.principals
	p.id == "*"
	msg := sprintf("%s lets any principal (%s \"*\") assume the role; a condition does not make that safe", [statement_name(st, i), p.type])
}

violations contains violation("iam.trust_any_principal", address, msg) if {
	some [address, i, st] in trust_statements
	st.not_principal
	msg := sprintf("%s trusts everyone but a list (NotPrincipal)", [statement_name(st, i)])
}

violations contains violation("iam.trust_foreign_account", address, msg) if {
	some [address, i, st] in trust_statements
	some p in st.principals
	p.type == "AWS"
	foreign_principal(p.id)
	msg := sprintf("%s trusts %s, of another account than %s", [statement_name(st, i), p.id, concat(", ", sort(own_accounts))])
}

violations contains violation("iam.trust_wildcard_principal", address, msg) if {
	some [address, i, st] in trust_statements
	some p in st.principals
	wildcard_principal(p)
	msg := sprintf("%s trusts %q, a pattern rather than one principal", [statement_name(st, i), p.id])
}

# --- federated (web identity, SAML) principals ------------------------------------------------

github_host := "token.actions.githubusercontent.com"

# The issuer of a federated principal: the host of an OIDC provider ARN, the SAML provider, or
# the provider name itself (cognito-identity.amazonaws.com, accounts.google.com ...).
issuer_of(id) := "saml" if contains(parse_arn(id).resource, "saml-provider/")

issuer_of(id) := substring(res, 14, -1) if {
	res := parse_arn(id).resource
	startswith(res, "oidc-provider/")
}

issuer_of(id) := id if {
	not parse_arn(id)
	not placeholder(id)
}

# An OIDC provider this plan creates (its URL, hence the key prefix, unknown until apply).
issuer_of(id) := "(this plan's provider)" if placeholder(id)

federated_statements contains [address, i, st, issuer] if {
	some [address, i, st] in trust_statements
	some p in st.principals
	p.type == "Federated"
	issuer := issuer_of(p.id)
}

violations contains violation("iam.trust_federated_audience", address, msg) if {
	some [address, i, st, issuer] in federated_statements
	not audience_pinned(st, issuer)
	msg := sprintf("%s trusts %s without pinning the token's audience (%s with an exact value)", [statement_name(st, i), issuer, audience_key(issuer)])
}

audience_key(issuer) := "SAML:aud" if issuer == "saml"

audience_key(issuer) := concat(":", [issuer, "aud"]) if issuer != "saml"

audience_pinned(st, issuer) if {
	some c in st.conditions
	exact_condition(c)
	lower(c.key) == lower(audience_key(issuer))
}

# An issuer unknown until apply: the audience condition is the one whose values are exactly
# sts.amazonaws.com (see subject_pinned for why the unknown key cannot widen the trust).
audience_pinned(st, "(this plan's provider)") if {
	some c in st.conditions
	c.key_from_issuer
	lower(c.op) == "stringequals"
	c.values == ["sts.amazonaws.com"]
}

violations contains violation("iam.trust_federated_subject", address, msg) if {
	some [address, i, st, issuer] in federated_statements
	issuer != "saml"
	not subject_pinned(st, issuer)
	msg := sprintf("%s trusts %s without pinning the token's subject to exact values (%s)", [statement_name(st, i), issuer, subject_rule(issuer)])
}

subject_rule(issuer) := "repo:<owner>/<name>:ref:refs/heads|tags/<name>, :environment:<name> or :pull_request" if issuer == github_host

subject_rule(issuer) := "system:serviceaccount:<namespace>:<name>" if eks_issuer(issuer)

subject_rule(issuer) := concat(":", [issuer, "sub with StringEquals"]) if {
	issuer != github_host
	not eks_issuer(issuer)
}

eks_issuer(issuer) if startswith(issuer, "oidc.eks.")

eks_issuer("(this plan's provider)")

subject_pinned(st, issuer) if {
	some c in st.conditions
	exact_condition(c)
	lower(c.key) == lower(concat(":", [issuer, "sub"]))
	every v in c.values {
		pinned_subject(issuer, v)
	}
}

# The issuer of this plan's EKS cluster is unknown until apply, so the condition keys are too.
# A StringEquals whose every value is one exact ServiceAccount subject pins the subject whatever
# its key: StringEquals on a key the token lacks fails, and no other claim of an EKS token holds
# "system:serviceaccount:<namespace>:<name>", so the unknown key can only narrow the trust.
subject_pinned(st, "(this plan's provider)") if {
	some c in st.conditions
	c.key_from_issuer
	lower(c.op) == "stringequals"
	count(c.values) > 0
	every v in c.values {
		service_account_subject(v)
	}
}

pinned_subject(issuer, v) if {
	issuer == github_host
	regex.match(`^repo:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+:(ref:refs/(heads|tags)/[^*?]+|environment:[^*?]+|pull_request)$`, v)
}

pinned_subject(issuer, v) if {
	eks_issuer(issuer)
	service_account_subject(v)
}

pinned_subject(issuer, v) if {
	issuer != github_host
	not eks_issuer(issuer)
	not wildcard(v)
	not contains(v, "*")
}

service_account_subject(v) if regex.match(`^system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`, v)

# A role that a pull request's workflow can assume must not be able to change anything: pull
# requests run code anyone with a branch (or a fork, where tokens are granted) has written.
violations contains violation("iam.pull_request_role_can_write", role.address, msg) if {
	some role in of_type("aws_iam_role")
	some [address, _, st, issuer] in federated_statements
	address == role.address
	issuer == github_host
	some c in st.conditions
	some v in c.values
	endswith(v, ":pull_request")
	powerful(role)
	msg := "the role trusts pull_request workflows and can write (its policies allow write actions or attach a policy that is not read-only): a pull request could change the account"
}

wildcard_principal(p) if {
	p.type == "AWS"
	p.id != "*"
	fuzzy_principal(p.id)
}

wildcard_principal(p) if {
	p.type in {"Service", "Federated", "CanonicalUser"}
	p.id != "*"
	contains(p.id, "*")
}
