# The cloud side of the audit trail: a CloudTrail trail of every region's management events, with
# log file validation, encrypted with its own customer-managed key, delivered to a dedicated S3
# bucket (the central store) and to a CloudWatch log group with a retention.
#
# Who can do what with the bucket (the policy below, proven by tests/audit.tftest.hcl):
#   read the log files      the audit role only (every other principal, administrators included,
#                           is denied s3:GetObject*; they assume the audit role to read)
#   write or delete files   CloudTrail only, for this trail (aws:SourceArn); every IAM principal is
#                           denied s3:PutObject and s3:DeleteObject*
#   anything over plain HTTP  nobody
# Administrators can still change the bucket policy itself: that is left to the account's
# guardrails (an SCP), see docs/threat-model.md.
locals {
  trail_name  = "${var.name}-audit"
  trail_arn   = "arn:${var.partition}:cloudtrail:${var.region}:${var.account_id}:trail/${local.trail_name}"
  bucket_name = "${var.name}-audit-${var.account_id}"
  bucket_arn  = "arn:${var.partition}:s3:::${local.bucket_name}"
  # Known at plan time (built from the name, not from the resource), so the bucket policy is too.
  auditor_role_name = "${var.name}-auditor"
  auditor_role_arn  = "arn:${var.partition}:iam::${var.account_id}:role/${local.auditor_role_name}"
  log_group_name    = "/aws/cloudtrail/${local.trail_name}"
  log_group_arn     = "arn:${var.partition}:logs:${var.region}:${var.account_id}:log-group:${local.log_group_name}"
  auditors          = length(var.auditor_principal_arns) > 0 ? var.auditor_principal_arns : ["arn:${var.partition}:iam::${var.account_id}:root"]
}

module "key" {
  source = "../kms-key"

  alias       = "${var.name}-audit-trail"
  description = "${var.name} CloudTrail log files"
  account_id  = var.account_id
  partition   = var.partition
  service_grants = [
    {
      sid     = "CloudTrailEncryptsThisTrail"
      service = "cloudtrail.amazonaws.com"
      actions = ["kms:GenerateDataKey*"]
      conditions = {
        StringEquals = { "aws:SourceArn" = local.trail_arn }
        StringLike   = { "kms:EncryptionContext:aws:cloudtrail:arn" = "arn:${var.partition}:cloudtrail:*:${var.account_id}:trail/*" }
      }
    },
    {
      sid        = "CloudTrailDescribesTheKey"
      service    = "cloudtrail.amazonaws.com"
      actions    = ["kms:DescribeKey"]
      conditions = { StringEquals = { "aws:SourceArn" = local.trail_arn } }
    },
  ]
  tags = var.tags
}

resource "aws_s3_bucket" "trail" {
  bucket = local.bucket_name
  tags   = var.tags
}

# Every request on the trail's bucket (reads by the audit role included) is logged to a second
# bucket, written only by the S3 logging service for this bucket.
module "access_logs" {
  source = "../log-bucket"

  bucket_name        = "${local.bucket_name}-access-logs"
  account_id         = var.account_id
  partition          = var.partition
  source_bucket_arns = [local.bucket_arn]
  retention_days     = var.log_file_retention_days
  tags               = var.tags
}

resource "aws_s3_bucket_logging" "trail" {
  bucket        = aws_s3_bucket.trail.bucket
  target_bucket = module.access_logs.bucket_name
  target_prefix = "trail/"

  depends_on = [module.access_logs]
}

resource "aws_s3_bucket_versioning" "trail" {
  bucket = aws_s3_bucket.trail.bucket
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "trail" {
  bucket                  = aws_s3_bucket.trail.bucket
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "trail" {
  bucket = aws_s3_bucket.trail.bucket
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "trail" {
  bucket = aws_s3_bucket.trail.bucket
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = module.key.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "trail" {
  bucket = aws_s3_bucket.trail.bucket
  rule {
    id     = "expire-log-files"
    status = "Enabled"
    filter {}
    expiration {
      days = var.log_file_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
  }
}

resource "aws_s3_bucket_policy" "trail" {
  bucket = aws_s3_bucket.trail.bucket
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "CloudTrailChecksTheBucket"
        Effect    = "Allow"
        Principal = { Service = "cloudtrail.amazonaws.com" }
        Action    = "s3:GetBucketAcl"
        Resource  = local.bucket_arn
        Condition = { StringEquals = { "aws:SourceArn" = local.trail_arn } }
      },
      {
        Sid       = "CloudTrailWritesThisTrail"
        Effect    = "Allow"
        Principal = { Service = "cloudtrail.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${local.bucket_arn}/AWSLogs/${var.account_id}/*"
        Condition = {
          StringEquals = {
            "aws:SourceArn" = local.trail_arn
            "s3:x-amz-acl"  = "bucket-owner-full-control"
          }
        }
      },
      {
        Sid       = "AuditRoleReads"
        Effect    = "Allow"
        Principal = { AWS = local.auditor_role_arn }
        Action    = ["s3:GetObject", "s3:ListBucket"]
        Resource  = [local.bucket_arn, "${local.bucket_arn}/*"]
      },
      {
        Sid       = "OnlyTheAuditRoleReads"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:GetObject*"
        Resource  = "${local.bucket_arn}/*"
        Condition = { StringNotEquals = { "aws:PrincipalArn" = [local.auditor_role_arn] } }
      },
      {
        Sid       = "OnlyCloudTrailWrites"
        Effect    = "Deny"
        Principal = "*"
        Action    = ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"]
        Resource  = "${local.bucket_arn}/*"
        Condition = { Bool = { "aws:PrincipalIsAWSService" = "false" } }
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [local.bucket_arn, "${local.bucket_arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })

  depends_on = [aws_s3_bucket_public_access_block.trail]
}

# The trail's copy in CloudWatch Logs, for queries and alarms, under the platform's logs key.
resource "aws_cloudwatch_log_group" "trail" {
  name              = local.log_group_name
  retention_in_days = var.log_group_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

resource "aws_iam_role" "trail_to_logs" {
  name = "${var.name}-cloudtrail-to-logs"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "cloudtrail.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceArn" = local.trail_arn } }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "trail_to_logs" {
  name = "write-the-trail-log-group"
  role = aws_iam_role.trail_to_logs.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = "${local.log_group_arn}:log-stream:*"
    }]
  })
}

resource "aws_cloudtrail" "this" {
  name                          = local.trail_name
  s3_bucket_name                = aws_s3_bucket.trail.bucket
  enable_logging                = true
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true
  kms_key_id                    = module.key.arn
  cloud_watch_logs_group_arn    = "${aws_cloudwatch_log_group.trail.arn}:*"
  cloud_watch_logs_role_arn     = aws_iam_role.trail_to_logs.arn

  event_selector {
    read_write_type           = "All"
    include_management_events = true
  }

  tags = var.tags

  depends_on = [aws_s3_bucket_policy.trail, aws_iam_role_policy.trail_to_logs]

  lifecycle {
    postcondition {
      condition     = self.enable_logging && self.is_multi_region_trail && self.include_global_service_events && self.enable_log_file_validation && self.kms_key_id != null
      error_message = "the trail logs every region's management events, with log file validation, encrypted with its key."
    }
  }
}

# The audit role: the one principal that may read the log files (and the trail's log group).
resource "aws_iam_role" "auditor" {
  name        = local.auditor_role_name
  description = "Reads the audit trail of ${var.name} (CloudTrail log files and log group)"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = local.auditors }
      Action    = "sts:AssumeRole"
    }]
  })
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "auditor" {
  name = "read-the-audit-trail"
  role = aws_iam_role.auditor.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadLogFiles"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:ListBucket"]
        Resource = [local.bucket_arn, "${local.bucket_arn}/*"]
      },
      {
        Sid      = "DecryptLogFilesThroughS3"
        Effect   = "Allow"
        Action   = "kms:Decrypt"
        Resource = "arn:${var.partition}:kms:${var.region}:${var.account_id}:key/*"
        Condition = {
          StringEquals = {
            "kms:ViaService"                           = "s3.${var.region}.amazonaws.com"
            "kms:EncryptionContext:aws:cloudtrail:arn" = local.trail_arn
          }
        }
      },
      {
        Sid      = "QueryTheTrailLogGroup"
        Effect   = "Allow"
        Action   = ["logs:GetLogEvents", "logs:FilterLogEvents", "logs:DescribeLogStreams", "logs:StartQuery", "logs:GetQueryResults"]
        Resource = [local.log_group_arn, "${local.log_group_arn}:*"]
      },
    ]
  })
}
