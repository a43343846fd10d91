# terraform test: the database module's secure defaults, and each guardrail refusing its bad input.
mock_provider "aws" {
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:111111111111:log-group:/mock" }
  }
  mock_resource "aws_secretsmanager_secret" {
    defaults = { arn = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:template-api-test/db-app-AbCdEf" }
  }
  mock_resource "aws_db_instance" {
    defaults = {
      arn                = "arn:aws:rds:eu-west-1:111111111111:db:template-api-test"
      resource_id        = "db-ABCDEFGHIJKLMNOPQRSTUVWXY"
      master_user_secret = [{ secret_arn = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:rds!db-0000-AbCdEf", kms_key_id = "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000", secret_status = "active" }]
    }
  }
}

variables {
  name                       = "template-api-test"
  environment                = "production"
  account_id                 = "111111111111"
  region                     = "eu-west-1"
  vpc_id                     = "vpc-0123456789abcdef0"
  subnet_ids                 = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  workload_security_group_id = "sg-0cccccccccccccccc"
  backup_retention_days      = 14
  log_kms_key_arn            = "arn:aws:kms:eu-west-1:111111111111:key/11111111-1111-1111-1111-111111111111"
}

run "secure_defaults" {
  command = apply

  assert {
    condition     = !aws_db_instance.this.publicly_accessible && aws_db_instance.this.storage_encrypted && aws_db_instance.this.kms_key_id == module.key.arn
    error_message = "the database must be private and encrypted with its own key"
  }
  assert {
    condition     = module.key.rotation_enabled
    error_message = "the database key must rotate"
  }
  assert {
    condition     = aws_db_instance.this.iam_database_authentication_enabled && aws_db_instance.this.manage_master_user_password && aws_db_instance.this.password == null
    error_message = "IAM auth on; the master password is managed by RDS, never given"
  }
  assert {
    condition     = aws_db_instance.this.multi_az && aws_db_instance.this.deletion_protection && aws_db_instance.this.backup_retention_period == 14 && !aws_db_instance.this.skip_final_snapshot
    error_message = "multi-AZ, deletion protection, backups and a final snapshot by default"
  }
  assert {
    condition     = toset(aws_db_instance.this.enabled_cloudwatch_logs_exports) == toset(["postgresql", "upgrade"]) && alltrue([for g in aws_cloudwatch_log_group.exports : g.kms_key_id == var.log_kms_key_arn])
    error_message = "PostgreSQL logs are exported into encrypted log groups"
  }
  assert {
    condition     = anytrue([for p in aws_db_parameter_group.this.parameter : p.name == "rds.force_ssl" && p.value == "1"])
    error_message = "rds.force_ssl must be 1"
  }
  assert {
    condition     = aws_db_instance.this.db_name == "app" && aws_db_instance.this.port == 5432 && aws_db_parameter_group.this.family == "postgres17"
    error_message = "database app on 5432, PostgreSQL 17"
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.postgres_from_workloads.referenced_security_group_id == var.workload_security_group_id && aws_vpc_security_group_ingress_rule.postgres_from_workloads.from_port == 5432 && aws_vpc_security_group_ingress_rule.postgres_from_workloads.to_port == 5432 && aws_vpc_security_group_ingress_rule.postgres_from_workloads.cidr_ipv4 == null
    error_message = "5432 only from the workload security group"
  }
  assert {
    condition     = length(aws_security_group.db.ingress) == 0 && length(aws_security_group.db.egress) == 0
    error_message = "no inline rules on the database security group (no egress at all)"
  }
  assert {
    condition     = aws_secretsmanager_secret.app.kms_key_id == module.key.arn && aws_secretsmanager_secret.app.name == "template-api-test/db-app"
    error_message = "the app secret is encrypted with the database key"
  }
  assert {
    condition     = output.app_secret_arn_pattern == "arn:aws:secretsmanager:eu-west-1:111111111111:secret:template-api-test/db-app-??????"
    error_message = "the app secret ARN pattern must match exactly one secret name"
  }
}

# Issue 15: Performance Insights on, its samples (SQL text) encrypted with the database's own key.
run "performance_insights_encrypted_with_the_database_key" {
  command = plan

  assert {
    condition     = aws_db_instance.this.performance_insights_enabled && aws_db_instance.this.performance_insights_kms_key_id == module.key.arn && aws_db_instance.this.performance_insights_retention_period == 7
    error_message = "Performance Insights must be on, kept 7 days and encrypted with the database key"
  }
}

run "production_refuses_no_deletion_protection" {
  command = plan
  variables {
    deletion_protection = false
  }
  expect_failures = [aws_db_instance.this]
}

run "production_refuses_single_az" {
  command = plan
  variables {
    multi_az = false
  }
  expect_failures = [aws_db_instance.this]
}

run "production_refuses_short_backups_and_no_final_snapshot" {
  command = plan
  variables {
    backup_retention_days = 7
    skip_final_snapshot   = true
  }
  expect_failures = [aws_db_instance.this, check.final_snapshot]
}

run "staging_may_skip_protection_but_is_flagged" {
  command = plan
  variables {
    environment         = "staging"
    deletion_protection = false
    multi_az            = false
    skip_final_snapshot = true
  }
  expect_failures = [check.final_snapshot]

  assert {
    condition     = !aws_db_instance.this.deletion_protection && !aws_db_instance.this.multi_az
    error_message = "staging may run a single-AZ, unprotected database"
  }
}

run "refuses_old_instance_class" {
  command = plan
  variables {
    instance_class = "db.t2.micro"
  }
  expect_failures = [var.instance_class]
}

run "refuses_short_backup_retention" {
  command = plan
  variables {
    backup_retention_days = 1
  }
  expect_failures = [var.backup_retention_days]
}

run "refuses_old_postgres" {
  command = plan
  variables {
    engine_version = "12.22"
  }
  expect_failures = [var.engine_version]
}

run "refuses_a_single_subnet" {
  command = plan
  variables {
    subnet_ids = ["subnet-0aaaaaaaaaaaaaaaa"]
  }
  expect_failures = [var.subnet_ids]
}

run "refuses_storage_ceiling_below_floor" {
  command = plan
  variables {
    allocated_storage_gb     = 200
    max_allocated_storage_gb = 100
  }
  expect_failures = [aws_db_instance.this]
}

run "refuses_an_invalid_identifier" {
  command = plan
  variables {
    name = "Template_API"
  }
  expect_failures = [var.name]
}

run "refuses_tiny_storage" {
  command = plan
  variables {
    allocated_storage_gb = 5
  }
  expect_failures = [var.allocated_storage_gb]
}

run "refuses_never_expiring_exported_logs" {
  command = plan
  variables {
    log_retention_days = 0
  }
  expect_failures = [var.log_retention_days]
}
