package terraform.guardrails

policy_types := {"aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy"}

# [address, parsed policy document] of every identity policy the plan shows.
policy_documents contains [rc.address, doc] if {
	some rc in planned
	rc.type in policy_types
	is_string(rc.change.after.policy)
	doc := json.unmarshal(rc.change.after.policy)
}

policy_documents contains [rc.address, doc] if {
	some rc in planned
	rc.type == "aws_iam_role"
	some inline in object.get(rc.change.after, "inline_policy", [])
	is_string(inline.policy)
	inline.policy != ""
	doc := json.unmarshal(inline.policy)
}

statements(doc) := as_array(doc.Statement)

statement_name(st, i) := sprintf("statement %q", [st.Sid]) if st.Sid

statement_name(st, i) := sprintf("statement %d", [i]) if not st.Sid

allow(st) if st.Effect == "Allow"

wildcard_action(action) if action == "*"

wildcard_action(action) if endswith(action, ":*")

# Read-only verbs; anything else counts as a write.
read_only_action(action) if {
	verb := split(action, ":")[1]
	regex.match(`^(Get|List|Describe|BatchGet|Head|View|Search|Lookup)`, verb)
}

deny contains msg if {
	some [address, doc] in policy_documents
	some i, st in statements(doc)
	allow(st)
	some action in as_array(st.Action)
	wildcard_action(action)
	msg := sprintf("%s: %s allows every action of %q", [address, statement_name(st, i), action])
}

deny contains msg if {
	some [address, doc] in policy_documents
	some i, st in statements(doc)
	allow(st)
	st.NotAction
	msg := sprintf("%s: %s allows with NotAction (everything but a list)", [address, statement_name(st, i)])
}

deny contains msg if {
	some [address, doc] in policy_documents
	some i, st in statements(doc)
	allow(st)
	"*" in as_array(object.get(st, "Resource", []))
	writes := [a | some a in as_array(st.Action); not read_only_action(a)]
	count(writes) > 0
	msg := sprintf("%s: %s allows write actions on every resource (\"*\"): %s", [address, statement_name(st, i), concat(", ", writes)])
}

deny contains msg if {
	some [address, doc] in policy_documents
	some i, st in statements(doc)
	allow(st)
	st.NotResource
	msg := sprintf("%s: %s allows with NotResource (everything but a list)", [address, statement_name(st, i)])
}

# No AWS-managed administrator policy attached to anything.
deny contains msg if {
	some rc in planned
	rc.type in {"aws_iam_role_policy_attachment", "aws_iam_policy_attachment", "aws_iam_user_policy_attachment", "aws_iam_group_policy_attachment"}
	endswith(rc.change.after.policy_arn, ":policy/AdministratorAccess")
	msg := sprintf("%s: attaches AdministratorAccess", [rc.address])
}

# No IAM users and no long-lived access keys: people federate, machines use roles.
deny contains msg if {
	some rc in planned
	rc.type in {"aws_iam_user", "aws_iam_access_key", "aws_iam_user_login_profile"}
	msg := sprintf("%s: IAM users and access keys are not allowed (use roles: SSO for people, OIDC for CI)", [rc.address])
}

# GitHub Actions OIDC trust must pin the token's subject to one repository and one ref,
# environment or event, with StringEquals and no wildcard, and the audience to sts.amazonaws.com.
github_host := "token.actions.githubusercontent.com"

github_trust_statements contains [rc.address, i, st] if {
	some rc in planned
	rc.type == "aws_iam_role"
	is_string(rc.change.after.assume_role_policy)
	doc := json.unmarshal(rc.change.after.assume_role_policy)
	some i, st in statements(doc)
	allow(st)
	some federated in as_array(object.get(object.get(st, "Principal", {}), "Federated", []))
	contains(federated, github_host)
}

pinned_subject(sub) if regex.match(`^repo:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+:(ref:refs/(heads|tags)/[^*?]+|environment:[^*?]+|pull_request)$`, sub)

pinned_subjects(st) if {
	subs := as_array(st.Condition.StringEquals[sprintf("%s:sub", [github_host])])
	count(subs) > 0
	every sub in subs {
		pinned_subject(sub)
	}
}

deny contains msg if {
	some [address, i, st] in github_trust_statements
	not pinned_subjects(st)
	msg := sprintf("%s: trust policy for GitHub OIDC (statement %d) does not pin %s:sub to one repository and ref, environment or pull_request with StringEquals", [address, i, github_host])
}

deny contains msg if {
	some [address, i, st] in github_trust_statements
	not st.Condition.StringEquals[sprintf("%s:aud", [github_host])] == "sts.amazonaws.com"
	msg := sprintf("%s: trust policy for GitHub OIDC (statement %d) does not pin %s:aud to sts.amazonaws.com", [address, i, github_host])
}

# A role anyone can assume: a trust statement for every AWS principal without a condition.
deny contains msg if {
	some rc in planned
	rc.type == "aws_iam_role"
	is_string(rc.change.after.assume_role_policy)
	doc := json.unmarshal(rc.change.after.assume_role_policy)
	some i, st in statements(doc)
	allow(st)
	any_principal(st.Principal)
	not st.Condition
	msg := sprintf("%s: trust policy (statement %d) lets any AWS principal assume the role", [rc.address, i])
}

any_principal(p) if p == "*"

any_principal(p) if "*" in as_array(p.AWS)
