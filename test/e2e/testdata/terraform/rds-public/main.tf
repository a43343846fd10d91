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

# Guardrail (Rego): no database reachable from the internet. Encrypted, so only that rule fires.
resource "aws_db_instance" "public" {
  identifier                  = "public-db"
  engine                      = "postgres"
  engine_version              = "17.4"
  instance_class              = "db.t4g.micro"
  allocated_storage           = 20
  username                    = "admin_user"
  manage_master_user_password = true
  storage_encrypted           = true
  publicly_accessible         = true
  skip_final_snapshot         = true
}
