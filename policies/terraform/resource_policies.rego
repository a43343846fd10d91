# Resource policies (KMS keys, S3 buckets, ECR repositories, Secrets Manager secrets): nobody
# outside the account, nobody anonymous, and AWS services only for this account's resources.
# Also the keys themselves.
package terraform.guardrails

resource_statements contains [doc.address, i, st] if {
	some doc in documents
	doc.kind == "resource"
	some i, st in doc.statements
	allows(st)
}

# Everyone ("*"), unless a condition ties the caller to this account.
violations contains violation("resource_policy.public", address, msg) if {
	some [address, i, st] in resource_statements
	some p in st.principals
	p.id == "*"
	not tied_to_own_account(st)
	msg := sprintf("%s allows everyone (Principal %s \"*\") without a condition that ties the caller to account %s", [statement_name(st, i), p.type, concat(", ", sort(own_accounts))])
}

violations contains violation("resource_policy.public", address, msg) if {
	some [address, i, st] in resource_statements
	st.not_principal
	msg := sprintf("%s allows everyone but a list (NotPrincipal)", [statement_name(st, i)])
}

violations contains violation("resource_policy.foreign_account", address, msg) if {
	some [address, i, st] in resource_statements
	some p in st.principals
	p.type == "AWS"
	foreign_principal(p.id)
	msg := sprintf("%s allows %s, of another account than %s", [statement_name(st, i), p.id, concat(", ", sort(own_accounts))])
}

violations contains violation("resource_policy.wildcard_principal", address, msg) if {
	some [address, i, st] in resource_statements
	some p in st.principals
	wildcard_principal(p)
	msg := sprintf("%s allows %q, a pattern rather than one principal", [statement_name(st, i), p.id])
}

# An AWS service acts for whoever calls it: it is allowed only for this account's resources
# (aws:SourceArn, aws:SourceAccount, or a KMS encryption context naming them).
violations contains violation("resource_policy.service_confused_deputy", address, msg) if {
	some [address, i, st] in resource_statements
	some p in st.principals
	p.type == "Service"
	not contains(p.id, "*")
	not service_scoped(st)
	msg := sprintf("%s allows the service %s without aws:SourceArn, aws:SourceAccount or an encryption context of this account: it would act for any account's resources", [statement_name(st, i), p.id])
}

scoping_keys := {"aws:sourcearn", "aws:sourceaccount", "aws:sourceowner"}

service_scoped(st) if {
	some c in st.conditions
	restricting_condition(c)
	lower(c.key) in scoping_keys
	every v in c.values {
		own_value(v)
	}
}

service_scoped(st) if {
	some c in st.conditions
	restricting_condition(c)
	startswith(lower(c.key), "kms:encryptioncontext:")
	every v in c.values {
		own_value(v)
	}
}

# A value that names this account (an account id, or an ARN of this account or of a global
# resource such as an S3 bucket, never a wildcard account).
own_value(v) if v in own_accounts

own_value(v) if {
	a := parse_arn(v)
	a.account in own_accounts
}

own_value(v) if {
	a := parse_arn(v)
	a.account == ""
	a.service == "s3"
	not wildcard(first_segment(a.resource))
}

own_value(v) if placeholder(v)

tied_to_own_account(st) if {
	some c in st.conditions
	restricting_condition(c)
	lower(c.key) in {"aws:principalaccount", "aws:sourceaccount", "aws:principalarn", "aws:sourcearn", "aws:sourceowner", "kms:calleraccount"}
	every v in c.values {
		own_value(v)
	}
}

# --- KMS keys ---------------------------------------------------------------------------------

violations contains violation("kms.rotation", rc.address, msg) if {
	some rc in of_type("aws_kms_key")
	object.get(rc.change.after, "customer_master_key_spec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT"
	value_at(rc, ["enable_key_rotation"]) != true
	msg := "the key does not rotate (enable_key_rotation = true)"
}

violations contains violation("kms.lockout_bypass", rc.address, msg) if {
	some rc in resources
	rc.type in {"aws_kms_key", "aws_kms_key_policy"}
	value_at(rc, ["bypass_policy_lockout_safety_check"]) == true
	msg := "bypass_policy_lockout_safety_check = true: a policy that locks the account out of its own key would be accepted"
}

violations contains violation("kms.deletion_window", rc.address, msg) if {
	some rc in of_type("aws_kms_key")
	days := value_at(rc, ["deletion_window_in_days"])
	is_number(days)
	days < 14
	msg := sprintf("deletion_window_in_days = %v: a scheduled deletion must leave at least 14 days to notice and cancel it", [days])
}

# --- Secrets Manager --------------------------------------------------------------------------

violations contains violation("secrets.customer_key", rc.address, msg) if {
	some rc in of_type("aws_secretsmanager_secret")
	not customer_key(rc, ["kms_key_id"])
	msg := sprintf("the secret is not encrypted with a key of this stack (kms_key_id is %s; the default aws/secretsmanager key cannot be scoped)", [key_text(rc, ["kms_key_id"])])
}

violations contains violation("secrets.value_in_state", rc.address, msg) if {
	some rc in of_type("aws_secretsmanager_secret_version")
	msg := "a secret value managed by Terraform is stored in the state in plain text: put it with the CLI or let the service generate it"
}

violations contains violation("secrets.public_policy", rc.address, msg) if {
	some rc in of_type("aws_secretsmanager_secret_policy")
	value_at(rc, ["block_public_policy"]) != true
	msg := "block_public_policy must be true: Secrets Manager then refuses any policy that opens the secret to other accounts"
}

violations contains violation("secrets.replica_key", rc.address, msg) if {
	some rc in of_type("aws_secretsmanager_secret")
	some i, r in as_array(object.get(rc.change.after, "replica", []))
	not customer_key(rc, ["replica", i, "kms_key_id"])
	msg := sprintf("the replica in %v is not encrypted with a key of this stack", [object.get(r, "region", "?")])
}
