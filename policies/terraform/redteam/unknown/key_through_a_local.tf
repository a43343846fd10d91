# A key passed through a local value: the plan JSON does not show locals, so nothing is proven.
# want: logging.unencrypted aws_cloudwatch_log_group.via_local
locals {
  key = aws_kms_key.this.arn
}

resource "aws_cloudwatch_log_group" "via_local" {
  name              = "/redteam/via-local"
  retention_in_days = 90
  kms_key_id        = local.key
}
