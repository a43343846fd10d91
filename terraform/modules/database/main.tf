locals {
  major_version = split(".", var.engine_version)[0]
  log_exports   = ["postgresql", "upgrade"]
  # Secrets Manager appends 6 random characters to a secret's ARN; IAM policies match them with
  # "-??????" so that the ARN is known at plan time.
  app_secret_name = "${var.name}/db-app"
}

# Customer-managed key for the storage, the snapshots, Performance Insights and the secrets of
# this database.
module "key" {
  source = "../kms-key"

  alias       = "${var.name}-db"
  description = "${var.name} RDS storage, Performance Insights and secrets"
  account_id  = var.account_id
  partition   = var.partition
  tags        = var.tags
}

moved {
  from = aws_kms_key.db
  to   = module.key.aws_kms_key.this
}

moved {
  from = aws_kms_alias.db
  to   = module.key.aws_kms_alias.this
}

resource "aws_db_subnet_group" "this" {
  name        = var.name
  description = "Data subnets of ${var.name}"
  subnet_ids  = var.subnet_ids
  tags        = var.tags
}

# 5432 from the workloads' security group, nothing else; no egress at all.
resource "aws_security_group" "db" {
  name        = "${var.name}-db"
  description = "PostgreSQL from the workloads only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-db" })
}

resource "aws_vpc_security_group_ingress_rule" "postgres_from_workloads" {
  security_group_id            = aws_security_group.db.id
  description                  = "PostgreSQL from the workload security group"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = var.workload_security_group_id
}

resource "aws_db_parameter_group" "this" {
  name        = "${var.name}-postgres${local.major_version}"
  family      = "postgres${local.major_version}"
  description = "TLS only, connection logging"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
  parameter {
    name  = "ssl_min_protocol_version"
    value = "TLSv1.2"
  }
  parameter {
    name  = "password_encryption"
    value = "scram-sha-256"
  }
  parameter {
    name  = "log_connections"
    value = "1"
  }
  parameter {
    name  = "log_disconnections"
    value = "1"
  }
  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

# Created before the instance so that the exported logs are encrypted and expire.
resource "aws_cloudwatch_log_group" "exports" {
  for_each          = toset(local.log_exports)
  name              = "/aws/rds/instance/${var.name}/${each.value}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

resource "aws_db_instance" "this" {
  identifier     = var.name
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class

  db_name  = var.database_name
  username = "platform_admin"
  # RDS generates the master password and keeps it in Secrets Manager, encrypted with our key:
  # it is never in a variable or in the Terraform state.
  manage_master_user_password         = true
  master_user_secret_kms_key_id       = module.key.arn
  iam_database_authentication_enabled = true

  allocated_storage     = var.allocated_storage_gb
  max_allocated_storage = var.max_allocated_storage_gb
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = module.key.arn

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.db.id]
  publicly_accessible    = false
  port                   = 5432
  parameter_group_name   = aws_db_parameter_group.this.name
  ca_cert_identifier     = "rds-ca-rsa2048-g1"

  multi_az                   = var.multi_az
  deletion_protection        = var.deletion_protection
  backup_retention_period    = var.backup_retention_days
  backup_window              = "02:00-03:00"
  maintenance_window         = "sun:03:30-sun:04:30"
  copy_tags_to_snapshot      = true
  skip_final_snapshot        = var.skip_final_snapshot
  final_snapshot_identifier  = var.skip_final_snapshot ? null : "${var.name}-final"
  auto_minor_version_upgrade = true

  enabled_cloudwatch_logs_exports = local.log_exports

  # Performance Insights: query-level load of the database, kept 7 days (the free tier), encrypted
  # with the database's key (its samples hold SQL text).
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = module.key.arn
  performance_insights_retention_period = 7

  tags = var.tags

  depends_on = [aws_cloudwatch_log_group.exports]

  # Postconditions judge the instance as planned (not the variables), so an override of the
  # arguments themselves is caught too.
  lifecycle {
    postcondition {
      condition     = var.environment != "production" || (self.deletion_protection && self.multi_az)
      error_message = "production requires deletion_protection = true and multi_az = true on the database."
    }
    postcondition {
      condition     = var.environment != "production" || (!self.skip_final_snapshot && self.backup_retention_period >= 14)
      error_message = "production keeps a final snapshot (skip_final_snapshot = false) and at least 14 days of backups."
    }
    postcondition {
      condition     = !self.publicly_accessible && self.storage_encrypted && self.backup_retention_period >= 7
      error_message = "the database is private, encrypted and backed up for at least 7 days."
    }
    precondition {
      condition     = var.max_allocated_storage_gb >= var.allocated_storage_gb
      error_message = "max_allocated_storage_gb must be at least allocated_storage_gb."
    }
  }
}

# The application's own credential (user "app"), for External Secrets. Only the container is
# managed here: the value is put by whoever creates the role in PostgreSQL (see README), so it is
# never in the Terraform state. With IAM authentication the app needs no password at all.
resource "aws_secretsmanager_secret" "app" {
  name                    = local.app_secret_name
  description             = "Password of the PostgreSQL user ${var.app_user} of ${var.name}"
  kms_key_id              = module.key.arn
  recovery_window_in_days = var.environment == "production" ? 30 : 7
  tags                    = var.tags
}

check "final_snapshot" {
  assert {
    condition     = !var.skip_final_snapshot
    error_message = "skip_final_snapshot is true: deleting this database loses its data without a final snapshot."
  }
}
