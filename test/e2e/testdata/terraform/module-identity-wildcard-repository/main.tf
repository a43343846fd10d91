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

# Guardrail: the CI roles trust one repository, never a pattern.
module "identity" {
  source = "../../../../../terraform/modules/identity"

  name                   = "bad-identity"
  environment            = "staging"
  account_id             = "111111111111"
  region                 = "eu-west-1"
  cluster_name           = "bad-cluster"
  oidc_provider_arn      = "arn:aws:iam::111111111111:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
  oidc_issuer            = "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
  db_resource_id         = "db-ABCDEFGHIJKLMNOPQRSTUVWXY"
  app_secret_arn_pattern = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:bad/db-app-??????"
  secrets_kms_key_arn    = "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000"
  state_bucket_name      = "bad-tfstate"
  state_key              = "bad.tfstate"
  github_repository      = "platform-template/*"
}
