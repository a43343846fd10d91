# Bootstrap: the S3 bucket that holds the Terraform state of the environments. Run once per
# account with local state (this configuration has no backend on purpose), then keep its state
# file safe or import the bucket into another state. See README.md.
terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

variable "account_id" {
  description = "AWS account id (12 digits)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region of the bucket."
  type        = string
  default     = "eu-west-1"
}

variable "partition" {
  description = "AWS partition."
  type        = string
  default     = "aws"
}

variable "bucket_name" {
  description = "Name of the state bucket; default template-api-tfstate-<account_id>."
  type        = string
  default     = null
}

variable "access_log_retention_days" {
  description = "Days the state bucket's access logs are kept (at least 365)."
  type        = number
  default     = 731

  validation {
    condition     = var.access_log_retention_days >= 365
    error_message = "access_log_retention_days must be at least 365."
  }
}

provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]
}

locals {
  bucket_name     = coalesce(var.bucket_name, "template-api-tfstate-${var.account_id}")
  log_bucket_name = "${local.bucket_name}-access-logs"
  # Built from the names (not read from the resources) so that the bucket policies are known at
  # plan time and the plan guardrails can judge them.
  bucket_arn = "arn:${var.partition}:s3:::${local.bucket_name}"
}

# Customer-managed key for the state objects (they can hold sensitive values). Readers of the
# state (the CI plan role) may decrypt with it only through S3, for this bucket.
module "key" {
  source = "../modules/kms-key"

  alias       = "template-api-tfstate"
  description = "Terraform state in ${local.bucket_name}"
  account_id  = var.account_id
  partition   = var.partition
}

resource "aws_s3_bucket" "state" {
  bucket = local.bucket_name

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.bucket
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.bucket
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = module.key.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.bucket
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.bucket
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# TLS only.
resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.bucket
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [local.bucket_arn, "${local.bucket_arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })

  depends_on = [aws_s3_bucket_public_access_block.state]
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.bucket
  rule {
    id     = "expire-old-state-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 365
    }
  }
}

# ---------------------------------------------------------------------------------------------
# Server access logging of the state bucket (issue 15): every request on the state (who read it,
# who wrote it, from where) lands in a second bucket written only by the S3 logging service for
# this bucket. CloudTrail's management events (modules/audit) do not record object reads; these
# logs do.
# ---------------------------------------------------------------------------------------------

module "access_logs" {
  source = "../modules/log-bucket"

  bucket_name        = local.log_bucket_name
  account_id         = var.account_id
  partition          = var.partition
  source_bucket_arns = [local.bucket_arn]
  retention_days     = var.access_log_retention_days
}

resource "aws_s3_bucket_logging" "state" {
  bucket        = aws_s3_bucket.state.bucket
  target_bucket = module.access_logs.bucket_name
  target_prefix = "state/"

  target_object_key_format {
    partitioned_prefix {
      partition_date_source = "EventTime"
    }
  }

  depends_on = [module.access_logs]
}

output "kms_key_arn" {
  description = "Key of the state objects."
  value       = module.key.arn
}

output "bucket_name" {
  description = "Pass it as bucket in backend.hcl of each environment."
  value       = aws_s3_bucket.state.bucket
}

output "access_log_bucket_name" {
  description = "Bucket of the state bucket's server access logs."
  value       = module.access_logs.bucket_name
}
