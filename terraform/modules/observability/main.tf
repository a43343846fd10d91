locals {
  log_group_arn_prefix = "arn:${var.partition}:logs:${var.region}:${var.account_id}:log-group:"
  app_log_group        = "/${var.name}/app"
  cluster_log_group    = "/aws/eks/${var.cluster_name}/cluster"
}

# One customer-managed key for the platform's logs. CloudWatch Logs may use it only for log
# groups of this account and region (encryption context condition).
resource "aws_kms_key" "logs" {
  description             = "${var.name} CloudWatch Logs"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministration"
        Effect    = "Allow"
        Principal = { AWS = "arn:${var.partition}:iam::${var.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogs"
        Effect    = "Allow"
        Principal = { Service = "logs.${var.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "${local.log_group_arn_prefix}*" }
        }
      },
    ]
  })
  tags = var.tags
}

resource "aws_kms_alias" "logs" {
  name          = "alias/${var.name}-logs"
  target_key_id = aws_kms_key.logs.key_id
}

resource "aws_cloudwatch_log_group" "app" {
  name              = local.app_log_group
  retention_in_days = var.retention_days
  kms_key_id        = aws_kms_key.logs.arn
  tags              = var.tags

  lifecycle {
    precondition {
      condition     = var.environment != "production" || var.retention_days >= 365
      error_message = "production keeps logs for at least 365 days (retention_days)."
    }
  }
}

# Created before the cluster so that EKS writes its control-plane logs (including audit) into an
# encrypted group with a retention, instead of creating an unencrypted, never-expiring one.
resource "aws_cloudwatch_log_group" "cluster" {
  name              = local.cluster_log_group
  retention_in_days = var.retention_days
  kms_key_id        = aws_kms_key.logs.arn
  tags              = var.tags
}
