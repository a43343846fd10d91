terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
}

# Guardrail (Rego): database storage is encrypted.
resource "aws_db_instance" "unencrypted" {
  identifier                    = "plain-db"
  engine                        = "postgres"
  engine_version                = "17.4"
  instance_class                = "db.t4g.micro"
  allocated_storage             = 20
  username                      = "admin_user"
  manage_master_user_password   = true
  storage_encrypted             = false
  publicly_accessible           = false
  backup_retention_period       = 14
  deletion_protection           = true
  multi_az                      = true
  skip_final_snapshot           = false
  final_snapshot_identifier     = "plain-db-final"
  parameter_group_name          = "default.postgres17"
  master_user_secret_kms_key_id = aws_kms_key.db.arn
}

# The stack's kind of key, so that only the rule under test fires.
resource "aws_kms_key" "db" {
  description             = "fixture database key"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

