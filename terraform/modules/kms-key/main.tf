# The one customer-managed KMS key construct of the stack: a symmetric key that rotates every
# year, a 30-day deletion window, an alias, and a key policy that gives the account its usual
# administration and each AWS service named in service_grants exactly the actions listed, only
# under that grant's conditions. Used by every module that encrypts (logs, database, EKS
# secrets, ECR, the audit trail) and by the bootstrap's state bucket.
locals {
  account_statement = {
    Sid       = "AccountAdministration"
    Effect    = "Allow"
    Principal = { AWS = "arn:${var.partition}:iam::${var.account_id}:root" }
    Action    = "kms:*"
    Resource  = "*"
  }
  service_statements = [for g in var.service_grants : {
    Sid       = g.sid
    Effect    = "Allow"
    Principal = { Service = g.service }
    Action    = g.actions
    Resource  = "*"
    Condition = g.conditions
  }]
}

resource "aws_kms_key" "this" {
  description             = var.description
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = concat([local.account_statement], local.service_statements)
  })
  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.alias}"
  target_key_id = aws_kms_key.this.key_id
}
