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

# Guardrail: every log group expires (never-expire is refused).
module "observability" {
  source = "../../../../../terraform/modules/observability"

  name           = "bad-logs"
  environment    = "staging"
  account_id     = "111111111111"
  region         = "eu-west-1"
  cluster_name   = "bad-cluster"
  retention_days = 0
}
