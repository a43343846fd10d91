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

# Guardrail: a production database has deletion protection and a multi-AZ standby.
module "database" {
  source = "../../../../../terraform/modules/database"

  name                       = "bad-database"
  environment                = "production"
  account_id                 = "111111111111"
  region                     = "eu-west-1"
  vpc_id                     = "vpc-0123456789abcdef0"
  subnet_ids                 = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  workload_security_group_id = "sg-0cccccccccccccccc"
  backup_retention_days      = 14
  deletion_protection        = false
  log_kms_key_arn            = "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000"
}
