# Log groups: encrypted with a key of this stack and kept long enough to investigate; the audit
# logs (the EKS control plane's, CloudTrail's) a year in production.
package terraform.guardrails

violations contains violation("logging.unencrypted", rc.address, msg) if {
	some rc in of_type("aws_cloudwatch_log_group")
	not customer_key(rc, ["kms_key_id"])
	msg := sprintf("the log group is not encrypted with a key of this stack (kms_key_id is %s)", [key_text(rc, ["kms_key_id"])])
}

min_retention := 30

violations contains violation("logging.retention", rc.address, msg) if {
	some rc in of_type("aws_cloudwatch_log_group")
	days := value_at(rc, ["retention_in_days"])
	not retention_ok(days, min_retention)
	msg := sprintf("retention_in_days = %v: logs are kept at least %d days, and never forever (0 means never expire)", [days, min_retention])
}

retention_ok(days, floor) if {
	is_number(days)
	days >= floor
}

# Audit logs: the control plane's group EKS writes to, and the groups CloudTrail delivers to.
audit_log_group(rc) if regex.match(`^/aws/eks/[^/]+/cluster$`, object.get(rc.change.after, "name", ""))

audit_log_group(rc) if {
	some trail in of_type("aws_cloudtrail")
	base_address(rc.address) in referenced(trail, ["cloud_watch_logs_group_arn"], {"aws_cloudwatch_log_group"})
}

audit_log_group(rc) if startswith(object.get(rc.change.after, "name", ""), "/aws/cloudtrail/")

audit_retention := 365 if production

audit_retention := 90 if not production

violations contains violation("logging.audit_retention", rc.address, msg) if {
	some rc in of_type("aws_cloudwatch_log_group")
	audit_log_group(rc)
	days := value_at(rc, ["retention_in_days"])
	retention_ok(days, min_retention)
	not retention_ok(days, audit_retention)
	msg := sprintf("an audit log group kept %v days: %s keeps audit logs at least %d days", [days, environment, audit_retention])
}
