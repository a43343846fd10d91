terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Bucket, key and region come from -backend-config at init (see backend.hcl.example), never
  # from this file. The state is encrypted and locked with an S3 lock file (no DynamoDB table).
  backend "s3" {
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      Project     = "template-api"
      Environment = "production"
      ManagedBy   = "terraform"
    }
  }
}
