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

# Guardrail: the VPC CIDR must be a private (RFC 1918) block.
module "network" {
  source = "../../../../../terraform/modules/network"

  name               = "bad-network"
  environment        = "staging"
  account_id         = "111111111111"
  region             = "eu-west-1"
  vpc_cidr           = "203.0.113.0/24"
  availability_zones = ["eu-west-1a", "eu-west-1b"]
  log_kms_key_arn    = "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000"
}
