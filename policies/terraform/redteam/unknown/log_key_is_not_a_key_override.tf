# The log group's "key" is the queue's ARN: unknown at plan, and no key at all.
# want: logging.unencrypted aws_cloudwatch_log_group.this
resource "aws_cloudwatch_log_group" "this" {
  kms_key_id = aws_sqs_queue.this.arn
}
