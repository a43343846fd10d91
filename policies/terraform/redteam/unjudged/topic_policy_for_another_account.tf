# A separate topic policy letting another account subscribe to the alerts.
# want: resource_policy.foreign_account aws_sns_topic_policy.share
resource "aws_sns_topic_policy" "share" {
  arn = aws_sns_topic.this.arn
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { AWS = "arn:aws:iam::222222222222:root" }, Action = "sns:Subscribe", Resource = "*" }]
  })
}
