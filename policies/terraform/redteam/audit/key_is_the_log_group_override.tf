# The trail's "key" is a log group's ARN: unknown at plan, and no key.
# want: audit.trail_encryption aws_cloudtrail.this
resource "aws_cloudtrail" "this" {
  kms_key_id = aws_cloudwatch_log_group.trail.arn
}
