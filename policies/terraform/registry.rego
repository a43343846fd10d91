# ECR: immutable tags, every push scanned, encrypted with a key of this stack, never
# force-deleted; repository policies are judged with the other resource policies.
package terraform.guardrails

violations contains violation("registry.mutable_tags", rc.address, msg) if {
	some rc in of_type("aws_ecr_repository")
	value_at(rc, ["image_tag_mutability"]) != "IMMUTABLE"
	msg := sprintf("image_tag_mutability = %v: a pushed tag could be moved to another image", [value_at(rc, ["image_tag_mutability"])])
}

violations contains violation("registry.scan_on_push", rc.address, msg) if {
	some rc in of_type("aws_ecr_repository")
	object.get(rc.change.after, ["image_scanning_configuration", 0, "scan_on_push"], false) != true
	not registry_scans_everything
	msg := "pushed images are not scanned (image_scanning_configuration scan_on_push = true, or a registry scanning rule for every repository)"
}

# Enhanced scanning of the registry, on push or continuously, for every repository ("*").
registry_scans_everything if {
	some rc in of_type("aws_ecr_registry_scanning_configuration")
	some rule in as_array(object.get(rc.change.after, "rule", []))
	rule.scan_frequency in {"SCAN_ON_PUSH", "CONTINUOUS_SCAN"}
	some f in as_array(rule.repository_filter)
	f.filter == "*"
}

violations contains violation("registry.scan_on_push", rc.address, msg) if {
	some rc in of_type("aws_ecr_registry_scanning_configuration")
	some rule in as_array(object.get(rc.change.after, "rule", []))
	not rule.scan_frequency in {"SCAN_ON_PUSH", "CONTINUOUS_SCAN"}
	msg := sprintf("a registry scanning rule scans %v only", [rule.scan_frequency])
}

violations contains violation("registry.encryption", rc.address, msg) if {
	some rc in of_type("aws_ecr_repository")
	not kms_repository(rc)
	msg := "the repository is not encrypted with a key of this stack (encryption_configuration KMS with kms_key)"
}

kms_repository(rc) if {
	object.get(rc.change.after, ["encryption_configuration", 0, "encryption_type"], "") == "KMS"
	customer_key(rc, ["encryption_configuration", 0, "kms_key"])
}

violations contains violation("registry.force_delete", rc.address, msg) if {
	some rc in of_type("aws_ecr_repository")
	value_at(rc, ["force_delete"]) == true
	msg := "force_delete = true: destroying the repository would delete every image, the ones running included"
}
