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

# Guardrail: the production Kubernetes API endpoint stays private.
module "cluster" {
  source = "../../../../../terraform/modules/cluster"

  name                   = "bad-cluster"
  environment            = "production"
  account_id             = "111111111111"
  subnet_ids             = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  log_group_name         = "/aws/eks/bad-cluster/cluster"
  endpoint_public_access = true
  public_access_cidrs    = ["203.0.113.0/24"]
}
