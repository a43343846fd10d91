package terraform.guardrails

db_types := {"aws_db_instance", "aws_rds_cluster", "aws_rds_cluster_instance"}

deny contains msg if {
	some rc in planned
	rc.type in db_types
	rc.change.after.publicly_accessible == true
	msg := sprintf("%s: the database is publicly accessible (publicly_accessible = true)", [rc.address])
}

deny contains msg if {
	some rc in planned
	rc.type in {"aws_db_instance", "aws_rds_cluster"}
	not rc.change.after.storage_encrypted == true
	not unknown(rc, "storage_encrypted")
	msg := sprintf("%s: the database storage is not encrypted (storage_encrypted must be true)", [rc.address])
}
