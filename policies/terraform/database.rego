# Databases: private, encrypted with a key of this stack, TLS only, backed up, never shared.
package terraform.guardrails

db_types := {"aws_db_instance", "aws_rds_cluster", "aws_rds_cluster_instance"}

# A KMS key argument is one of this stack's keys: a key ARN known at plan in this account, or an
# expression that can only be the ARN or id of an aws_kms_key (or alias) this plan creates.
kms_types := {"aws_kms_key", "aws_kms_alias", "aws_kms_replica_key"}

kms_attributes := {"arn", "key_id", "id", "target_key_arn", ""}

customer_key(rc, path) if {
	not unknown_in(rc, path)
	key := value_at(rc, path)
	is_string(key)
	own_key_arn(key)
}

customer_key(rc, path) if {
	unknown_in(rc, path)
	derived_from(rc, path, kms_types, kms_attributes)
}

own_key_arn(key) if {
	a := parse_arn(key)
	a.service == "kms"
	a.account in own_accounts
	startswith(a.resource, "key/")
	not wildcard(a.resource)
}

own_key_arn(key) if {
	a := parse_arn(key)
	a.service == "kms"
	a.account in own_accounts
	startswith(a.resource, "alias/")
	not startswith(a.resource, "alias/aws/")
	not wildcard(a.resource)
}

key_text(rc, path) := sprintf("%v", [value_at(rc, path)]) if not unknown_in(rc, path)

key_text(rc, path) := "a value unknown at plan that is not a key of this plan" if unknown_in(rc, path)

violations contains violation("database.public", rc.address, msg) if {
	some rc in resources
	rc.type in db_types
	value_at(rc, ["publicly_accessible"]) == true
	msg := "the database is publicly accessible (publicly_accessible = true)"
}

violations contains violation("database.public", rc.address, msg) if {
	some rc in resources
	rc.type in db_types
	unknown_in(rc, ["publicly_accessible"])
	msg := "publicly_accessible is unknown at plan: it must be known to be false"
}

violations contains violation("database.unencrypted", rc.address, msg) if {
	some rc in resources
	rc.type in {"aws_db_instance", "aws_rds_cluster"}
	not value_at(rc, ["storage_encrypted"]) == true
	not replica_of_encrypted(rc)
	msg := "the database storage is not encrypted (storage_encrypted must be true, known at plan)"
}

replica_of_encrypted(rc) if {
	rc.type == "aws_db_instance"
	value_at(rc, ["replicate_source_db"]) != null
	customer_key(rc, ["kms_key_id"])
}

violations contains violation("database.storage_key", rc.address, msg) if {
	some rc in resources
	rc.type in {"aws_db_instance", "aws_rds_cluster"}
	value_at(rc, ["storage_encrypted"]) == true
	not customer_key(rc, ["kms_key_id"])
	msg := sprintf("the storage is not encrypted with a customer-managed key of this stack (kms_key_id is %s)", [key_text(rc, ["kms_key_id"])])
}

violations contains violation("database.performance_insights_key", rc.address, msg) if {
	some rc in resources
	rc.type in db_types
	value_at(rc, ["performance_insights_enabled"]) == true
	not customer_key(rc, ["performance_insights_kms_key_id"])
	msg := sprintf("Performance Insights (whose samples hold SQL text) is not encrypted with a key of this stack (%s)", [key_text(rc, ["performance_insights_kms_key_id"])])
}

violations contains violation("database.master_secret_key", rc.address, msg) if {
	some rc in resources
	rc.type in {"aws_db_instance", "aws_rds_cluster"}
	value_at(rc, ["manage_master_user_password"]) == true
	not customer_key(rc, ["master_user_secret_kms_key_id"])
	msg := "the RDS-managed master password secret is not encrypted with a key of this stack"
}

violations contains violation("database.static_password", rc.address, msg) if {
	some rc in resources
	rc.type in {"aws_db_instance", "aws_rds_cluster"}
	some field in ["password", "master_password", "password_wo", "master_password_wo"]
	field_set(rc, field)
	msg := sprintf("a master password is given (%s): it lands in the state; let RDS manage it (manage_master_user_password = true)", [field])
}

field_set(rc, field) if value_at(rc, [field]) != null

field_set(rc, field) if unknown_in(rc, [field])

# Write-only arguments never show a value in the plan: their expression does.
field_set(rc, field) if expression_at(rc, [field]) != null

# --- backups and deletion ---------------------------------------------------------------------

min_backup_days := 14 if production

min_backup_days := 7 if not production

violations contains violation("database.backups", rc.address, msg) if {
	some rc in resources
	rc.type in {"aws_db_instance", "aws_rds_cluster"}
	field := backup_field(rc.type)
	days := value_at(rc, [field])
	not days >= min_backup_days
	not read_replica(rc)
	msg := sprintf("%s = %v: %s keeps at least %d days of backups", [field, days, environment, min_backup_days])
}

backup_field("aws_db_instance") := "backup_retention_period"

backup_field("aws_rds_cluster") := "backup_retention_period"

read_replica(rc) if value_at(rc, ["replicate_source_db"]) != null

violations contains violation("database.deletion_protection", rc.address, msg) if {
	production
	some rc in resources
	rc.type in {"aws_db_instance", "aws_rds_cluster"}
	not value_at(rc, ["deletion_protection"]) == true
	msg := "production databases have deletion_protection = true"
}

violations contains violation("database.final_snapshot", rc.address, msg) if {
	production
	some rc in resources
	rc.type in {"aws_db_instance", "aws_rds_cluster"}
	not value_at(rc, ["skip_final_snapshot"]) == false
	msg := "production databases keep a final snapshot (skip_final_snapshot = false)"
}

violations contains violation("database.multi_az", rc.address, msg) if {
	production
	some rc in of_type("aws_db_instance")
	not read_replica(rc)
	not value_at(rc, ["multi_az"]) == true
	msg := "production databases run a standby in a second zone (multi_az = true)"
}

# --- TLS --------------------------------------------------------------------------------------

# Every PostgreSQL instance uses a parameter group that forces TLS: one of this plan that sets
# rds.force_ssl = 1 (or leaves it at the engine default, 1 from PostgreSQL 15), or an engine
# default group of PostgreSQL 15 or later.
postgres(rc) if startswith(object.get(rc.change.after, "engine", ""), "postgres")

major_version(rc) := to_number(split(object.get(rc.change.after, "engine_version", "0"), ".")[0])

violations contains violation("database.force_ssl", rc.address, msg) if {
	some rc in of_type("aws_db_parameter_group")
	some p in as_array(object.get(rc.change.after, "parameter", []))
	p.name == "rds.force_ssl"
	p.value != "1"
	msg := sprintf("rds.force_ssl = %v: connections without TLS would be accepted", [p.value])
}

violations contains violation("database.force_ssl", rc.address, msg) if {
	some rc in of_type("aws_db_instance")
	postgres(rc)
	not tls_forced(rc)
	msg := sprintf("its parameter group %v does not provably force TLS (a group of this plan with rds.force_ssl = 1, or the default group of PostgreSQL 15+)", [object.get(rc.change.after, "parameter_group_name", null)])
}

tls_forced(rc) if {
	some group in instance_parameter_groups(rc)
	group_forces_tls(group, rc)
}

tls_forced(rc) if {
	name := value_at(rc, ["parameter_group_name"])
	is_string(name)
	startswith(name, "default.")
	major_version(rc) >= 15
}

tls_forced(rc) if {
	value_at(rc, ["parameter_group_name"]) == null
	not unknown_in(rc, ["parameter_group_name"])
	major_version(rc) >= 15
}

instance_parameter_groups(rc) := {g |
	name := value_at(rc, ["parameter_group_name"])
	is_string(name)
	some g in of_type("aws_db_parameter_group")
	value_at(g, ["name"]) == name
} | {g |
	unknown_in(rc, ["parameter_group_name"])
	some address in referenced(rc, ["parameter_group_name"], {"aws_db_parameter_group"})
	some g in at_base(address)
}

group_forces_tls(group, _) if {
	some p in as_array(object.get(group.change.after, "parameter", []))
	p.name == "rds.force_ssl"
	p.value == "1"
}

group_forces_tls(group, rc) if {
	every p in as_array(object.get(group.change.after, "parameter", [])) {
		p.name != "rds.force_ssl"
	}
	major_version(rc) >= 15
}

# --- sharing ----------------------------------------------------------------------------------

violations contains violation("database.public_snapshot", rc.address, msg) if {
	some rc in resources
	rc.type in {"aws_db_snapshot", "aws_db_cluster_snapshot", "aws_db_snapshot_copy"}
	some account in as_array(object.get(rc.change.after, "shared_accounts", null))
	not account in own_accounts
	msg := sprintf("the snapshot is shared with %q: a snapshot holds the whole database", [account])
}

violations contains violation("database.public_snapshot", rc.address, msg) if {
	some rc in resources
	rc.type in {"aws_db_snapshot", "aws_db_cluster_snapshot", "aws_db_snapshot_copy"}
	unknown_in(rc, ["shared_accounts"])
	expression_at(rc, ["shared_accounts"]) != null
	msg := "the accounts the snapshot is shared with are unknown at plan"
}

# --- placement --------------------------------------------------------------------------------

violations contains violation("database.subnet_tier", rc.address, msg) if {
	some rc in of_type("aws_db_subnet_group")
	some address in referenced(rc, ["subnet_ids"], {"aws_subnet"})
	some subnet in at_base(address)
	tier_of(subnet) != "data"
	msg := sprintf("holds the %s subnet %s: databases go in data subnets only (no route out of the VPC)", [tier_of(subnet), subnet.address])
}
