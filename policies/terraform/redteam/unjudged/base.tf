# A queue and a topic with resource policies for this account's workload role: the secure
# variant of this class (types whose sharing the guardrails judge).
# admitted: an SQS queue and an SNS topic, encrypted, whose policies allow one role of this account
resource "aws_kms_key" "messages" {
  description             = "messages"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_sqs_queue" "this" {
  name              = "redteam-events"
  kms_master_key_id = aws_kms_key.messages.arn
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { AWS = "arn:aws:iam::111111111111:role/template-api-production-app" }, Action = "sqs:SendMessage", Resource = "*" }]
  })
}

resource "aws_sns_topic" "this" {
  name              = "redteam-alerts"
  kms_master_key_id = aws_kms_key.messages.arn
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { AWS = "arn:aws:iam::111111111111:role/template-api-production-app" }, Action = "sns:Publish", Resource = "*" }]
  })
}
