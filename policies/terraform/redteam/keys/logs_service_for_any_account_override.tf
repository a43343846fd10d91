# CloudWatch Logs allowed to use the key with no condition: for any account's log groups.
# want: resource_policy.service_confused_deputy aws_kms_key.logs
resource "aws_kms_key" "logs" {
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Sid = "AccountAdministration", Effect = "Allow", Principal = { AWS = "arn:aws:iam::111111111111:root" }, Action = "kms:*", Resource = "*" },
      { Sid = "CloudWatchLogs", Effect = "Allow", Principal = { Service = "logs.eu-west-1.amazonaws.com" }, Action = ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"], Resource = "*" },
    ]
  })
}
