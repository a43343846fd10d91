# The audit trail (CloudTrail): on, every region, management events, log file validation,
# encrypted with a key of this stack; never deleted by a plan. An environment's plan keeps one.
package terraform.guardrails

violations contains violation("audit.trail_disabled", rc.address, msg) if {
	some rc in of_type("aws_cloudtrail")
	value_at(rc, ["enable_logging"]) != true
	msg := "enable_logging is not true: the trail records nothing"
}

violations contains violation("audit.trail_validation", rc.address, msg) if {
	some rc in of_type("aws_cloudtrail")
	value_at(rc, ["enable_log_file_validation"]) != true
	msg := "log file validation is off: a deleted or edited log file could not be detected"
}

violations contains violation("audit.trail_encryption", rc.address, msg) if {
	some rc in of_type("aws_cloudtrail")
	not customer_key(rc, ["kms_key_id"])
	msg := sprintf("the log files are not encrypted with a key of this stack (kms_key_id is %s)", [key_text(rc, ["kms_key_id"])])
}

violations contains violation("audit.trail_scope", rc.address, msg) if {
	some rc in of_type("aws_cloudtrail")
	some field in ["is_multi_region_trail", "include_global_service_events"]
	value_at(rc, [field]) != true
	msg := sprintf("%s is not true: actions in other regions (or on global services such as IAM) would go unrecorded", [field])
}

violations contains violation("audit.trail_scope", rc.address, msg) if {
	some rc in of_type("aws_cloudtrail")
	some selector in as_array(object.get(rc.change.after, "event_selector", []))
	not management_events_recorded(selector)
	msg := sprintf("an event selector drops management events (include_management_events %v, read_write_type %v)", [object.get(selector, "include_management_events", null), object.get(selector, "read_write_type", null)])
}

violations contains violation("audit.trail_scope", rc.address, msg) if {
	some rc in of_type("aws_cloudtrail")
	count(as_array(object.get(rc.change.after, "advanced_event_selector", []))) > 0
	msg := "advanced event selectors replace the management events selection: they are not judged, use event_selector"
}

management_events_recorded(selector) if {
	selector.include_management_events == true
	selector.read_write_type == "All"
}

violations contains violation("audit.trail_deleted", rc.address, msg) if {
	some rc in input.resource_changes
	rc.mode == "managed"
	rc.type == "aws_cloudtrail"
	deleted(rc)
	msg := "the plan deletes the audit trail"
}

# An environment's plan (the caller names the environment) keeps a trail.
violations contains violation("audit.trail_missing", "(plan)", msg) if {
	params.environment != ""
	count(of_type("aws_cloudtrail")) == 0
	msg := sprintf("the %s plan has no CloudTrail trail: the account's actions would go unrecorded", [params.environment])
}
