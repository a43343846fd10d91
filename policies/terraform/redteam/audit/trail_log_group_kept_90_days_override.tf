# The trail's log group kept 90 days in production, where audit logs are kept a year.
# want: logging.audit_retention aws_cloudwatch_log_group.trail
resource "aws_cloudwatch_log_group" "trail" {
  retention_in_days = 90
}
