# The control plane's log group left without the logs key (CloudWatch's default encryption only).
# want: logging.unencrypted aws_cloudwatch_log_group.cluster
resource "aws_cloudwatch_log_group" "cluster" {
  kms_key_id = null
}
