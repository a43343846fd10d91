package terraform.guardrails

deny contains msg if {
	some rc in planned
	rc.type == "aws_cloudwatch_log_group"
	not encrypted_log_group(rc)
	msg := sprintf("%s: the log group is not encrypted with a KMS key (kms_key_id)", [rc.address])
}

encrypted_log_group(rc) if unknown(rc, "kms_key_id")

encrypted_log_group(rc) if {
	key := rc.change.after.kms_key_id
	is_string(key)
	key != ""
}
