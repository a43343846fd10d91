locals {
  log_group_arn_prefix = "arn:${var.partition}:logs:${var.region}:${var.account_id}:log-group:"
  app_log_group        = "/${var.name}/app"
  cluster_log_group    = "/aws/eks/${var.cluster_name}/cluster"
}

# One customer-managed key for the platform's logs. CloudWatch Logs may use it only for log
# groups of this account and region (encryption context condition).
module "key" {
  source = "../kms-key"

  alias       = "${var.name}-logs"
  description = "${var.name} CloudWatch Logs"
  account_id  = var.account_id
  partition   = var.partition
  service_grants = [{
    sid        = "CloudWatchLogs"
    service    = "logs.${var.region}.amazonaws.com"
    actions    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    conditions = { ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "${local.log_group_arn_prefix}*" } }
  }]
  tags = var.tags
}

moved {
  from = aws_kms_key.logs
  to   = module.key.aws_kms_key.this
}

moved {
  from = aws_kms_alias.logs
  to   = module.key.aws_kms_alias.this
}

resource "aws_cloudwatch_log_group" "app" {
  name              = local.app_log_group
  retention_in_days = var.retention_days
  kms_key_id        = module.key.arn
  tags              = var.tags

  # Judges the group as planned (not the variable), so an override of the argument is caught too.
  lifecycle {
    postcondition {
      condition     = var.environment != "production" || self.retention_in_days >= 365
      error_message = "production keeps logs for at least 365 days (retention_days)."
    }
  }
}

# Created before the cluster so that EKS writes its control-plane logs (including audit) into an
# encrypted group with a retention, instead of creating an unencrypted, never-expiring one.
resource "aws_cloudwatch_log_group" "cluster" {
  name              = local.cluster_log_group
  retention_in_days = var.retention_days
  kms_key_id        = module.key.arn
  tags              = var.tags

  # The control plane's audit log lands here: production keeps it a year too.
  lifecycle {
    postcondition {
      condition     = var.environment != "production" || self.retention_in_days >= 365
      error_message = "production keeps the control-plane (audit) logs for at least 365 days (retention_days)."
    }
  }
}
