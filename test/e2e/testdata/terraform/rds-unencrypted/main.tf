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
  identifier                  = "plain-db"
  engine                      = "postgres"
  engine_version              = "17.4"
  instance_class              = "db.t4g.micro"
  allocated_storage           = 20
  username                    = "admin_user"
  manage_master_user_password = true
  storage_encrypted           = false
  publicly_accessible         = false
  skip_final_snapshot         = true
}
