# S3 buckets (the state bucket of the bootstrap, the audit trail, their access logs): private,
# versioned, encrypted, TLS only, owned by the bucket owner, and every request logged.
package terraform.guardrails

buckets := of_type("aws_s3_bucket")

bucket_name(b) := value_at(b, ["bucket"])

# The companion resources of a bucket (aws_s3_bucket_versioning and friends), linked by the
# bucket's name when the plan knows it, else by reference.
companions(b, type) := {c |
	some c in of_type(type)
	name := value_at(c, ["bucket"])
	is_string(name)
	name == bucket_name(b)
} | {c |
	some c in of_type(type)
	unknown_in(c, ["bucket"])
	base_address(b.address) in referenced(c, ["bucket"], {"aws_s3_bucket"})
}

# Buckets that receive server access logs.
log_targets contains b if {
	some b in buckets
	some l in of_type("aws_s3_bucket_logging")
	value_at(l, ["target_bucket"]) == bucket_name(b)
}

log_targets contains b if {
	some b in buckets
	some l in of_type("aws_s3_bucket_logging")
	base_address(b.address) in referenced(l, ["target_bucket"], {"aws_s3_bucket"})
}

# A bucket whose policy lets the S3 logging service write to it is a log target by design.
log_targets contains b if {
	some b in buckets
	some p in companions(b, "aws_s3_bucket_policy")
	some doc in documents
	doc.address == p.address
	some st in doc.statements
	st.effect == "Allow"
	some pr in st.principals
	pr.type == "Service"
	pr.id == "logging.s3.amazonaws.com"
}

pab_flags := ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]

violations contains violation("s3.public_access_block", b.address, msg) if {
	some b in buckets
	count(companions(b, "aws_s3_bucket_public_access_block")) == 0
	msg := "the bucket has no public access block (aws_s3_bucket_public_access_block with all four settings true)"
}

violations contains violation("s3.public_access_block", pab.address, msg) if {
	some pab in of_type("aws_s3_bucket_public_access_block")
	off := [f | some f in pab_flags; value_at(pab, [f]) != true]
	count(off) > 0
	msg := sprintf("%s not true: the bucket could be made public", [concat(", ", off)])
}

violations contains violation("s3.public_access_block", rc.address, msg) if {
	some rc in of_type("aws_s3_account_public_access_block")
	off := [f | some f in pab_flags; value_at(rc, [f]) != true]
	count(off) > 0
	msg := sprintf("the account-wide %s not true", [concat(", ", off)])
}

violations contains violation("s3.versioning", b.address, msg) if {
	some b in buckets
	enabled := [v | some v in companions(b, "aws_s3_bucket_versioning"); object.get(v.change.after, ["versioning_configuration", 0, "status"], "") == "Enabled"]
	count(enabled) == 0
	msg := "the bucket is not versioned (aws_s3_bucket_versioning with status Enabled): an overwrite or a delete would lose the data"
}

violations contains violation("s3.versioning", v.address, msg) if {
	some v in of_type("aws_s3_bucket_versioning")
	status := object.get(v.change.after, ["versioning_configuration", 0, "status"], "")
	status != "Enabled"
	msg := sprintf("versioning is %v", [status])
}

violations contains violation("s3.encryption", b.address, msg) if {
	some b in buckets
	not encrypted_bucket(b)
	msg := "the bucket is not encrypted with a key of this stack (SSE-KMS; SSE-S3 only for a server access log target, which cannot use KMS)"
}

encrypted_bucket(b) if {
	some c in companions(b, "aws_s3_bucket_server_side_encryption_configuration")
	some i, rule in as_array(object.get(c.change.after, "rule", []))
	object.get(rule, ["apply_server_side_encryption_by_default", 0, "sse_algorithm"], "") in {"aws:kms", "aws:kms:dsse"}
	customer_key(c, ["rule", i, "apply_server_side_encryption_by_default", 0, "kms_master_key_id"])
}

encrypted_bucket(b) if {
	b in log_targets
	some c in companions(b, "aws_s3_bucket_server_side_encryption_configuration")
	some rule in as_array(object.get(c.change.after, "rule", []))
	object.get(rule, ["apply_server_side_encryption_by_default", 0, "sse_algorithm"], "") == "AES256"
}

violations contains violation("s3.tls_only", b.address, msg) if {
	some b in buckets
	not tls_only(b)
	msg := "no bucket policy denies requests without TLS (Deny s3:* to \"*\" when aws:SecureTransport is false, on the bucket and its objects)"
}

tls_only(b) if {
	some p in companions(b, "aws_s3_bucket_policy")
	some doc in documents
	doc.address == p.address
	some st in doc.statements
	st.effect == "Deny"
	some pr in st.principals
	pr.id == "*"
	some a in st.actions
	lower(a) in {"s3:*", "*"}
	some c in st.conditions
	lower(c.op) == "bool"
	lower(c.key) == "aws:securetransport"
	lower(sprintf("%v", [c.values[0]])) == "false"
	count({r | some r in st.resources; covers_bucket(r, b)}) > 0
	count({r | some r in st.resources; covers_objects(r, b)}) > 0
}

covers_bucket(r, b) if r == sprintf("arn:%s:s3:::%s", [parse_arn(r).partition, bucket_name(b)])

covers_bucket(r, _) if placeholder(r)

covers_objects(r, b) if r == sprintf("arn:%s:s3:::%s/*", [parse_arn(r).partition, bucket_name(b)])

covers_objects(r, _) if placeholder(r)

violations contains violation("s3.acls", b.address, msg) if {
	some b in buckets
	enforced := [o | some o in companions(b, "aws_s3_bucket_ownership_controls"); object.get(o.change.after, ["rule", 0, "object_ownership"], "") == "BucketOwnerEnforced"]
	count(enforced) == 0
	msg := "ACLs stay enabled (aws_s3_bucket_ownership_controls with BucketOwnerEnforced turns them off): an object ACL could make it public"
}

public_acls := {"public-read", "public-read-write", "authenticated-read"}

violations contains violation("s3.acls", rc.address, msg) if {
	some rc in resources
	rc.type in {"aws_s3_bucket_acl", "aws_s3_bucket", "aws_s3_object"}
	value_at(rc, ["acl"]) in public_acls
	msg := sprintf("the canned ACL %q makes it public", [value_at(rc, ["acl"])])
}

violations contains violation("s3.acls", rc.address, msg) if {
	some rc in of_type("aws_s3_bucket_acl")
	some policy in as_array(object.get(rc.change.after, "access_control_policy", []))
	some grant in as_array(object.get(policy, "grant", []))
	uri := object.get(grant, ["grantee", 0, "uri"], "")
	contains(uri, "acs.amazonaws.com/groups/global/")
	msg := sprintf("grants %v to %s", [object.get(grant, "permission", "?"), uri])
}

violations contains violation("s3.access_logging", b.address, msg) if {
	some b in buckets
	not b in log_targets
	count(companions(b, "aws_s3_bucket_logging")) == 0
	msg := "requests on the bucket are not logged (aws_s3_bucket_logging to an access-log bucket): who read or changed what could not be told"
}
