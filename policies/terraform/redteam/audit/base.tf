# The audit trail the way modules/audit builds it (the bucket's own rules are in the storage
# class), and the control plane's audit log group: the secure variant of this class.
# admitted: a multi-region trail of read and write management events, with log file validation, encrypted with a key CloudTrail may use for this trail only, copied to a log group kept a year
resource "aws_kms_key" "trail" {
  description             = "trail"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Sid = "AccountAdministration", Effect = "Allow", Principal = { AWS = "arn:aws:iam::111111111111:root" }, Action = "kms:*", Resource = "*" },
      {
        Sid       = "CloudTrailEncryptsThisTrail"
        Effect    = "Allow"
        Principal = { Service = "cloudtrail.amazonaws.com" }
        Action    = "kms:GenerateDataKey*"
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceArn" = "arn:aws:cloudtrail:eu-west-1:111111111111:trail/redteam-audit" } }
      },
    ]
  })
}

resource "aws_kms_key" "logs" {
  description             = "logs"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_cloudwatch_log_group" "trail" {
  name              = "/aws/cloudtrail/redteam-audit"
  retention_in_days = 365
  kms_key_id        = aws_kms_key.logs.arn
}

resource "aws_cloudwatch_log_group" "cluster" {
  name              = "/aws/eks/redteam/cluster"
  retention_in_days = 365
  kms_key_id        = aws_kms_key.logs.arn
}

resource "aws_iam_role" "trail_to_logs" {
  name = "redteam-cloudtrail-to-logs"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "cloudtrail.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_cloudtrail" "this" {
  name                          = "redteam-audit"
  s3_bucket_name                = "redteam-audit-111111111111"
  enable_logging                = true
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true
  kms_key_id                    = aws_kms_key.trail.arn
  cloud_watch_logs_group_arn    = "${aws_cloudwatch_log_group.trail.arn}:*"
  cloud_watch_logs_role_arn     = aws_iam_role.trail_to_logs.arn
  event_selector {
    read_write_type           = "All"
    include_management_events = true
  }
}
