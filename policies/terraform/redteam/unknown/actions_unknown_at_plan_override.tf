# The document's actions come from an apply-time value: what it allows cannot be known.
# want: iam.document_unjudgeable aws_iam_role_policy.worker
data "aws_iam_policy_document" "worker" {
  statement {
    sid       = "SendToTheQueue"
    effect    = "Allow"
    actions   = [aws_sqs_queue.this.arn]
    resources = [aws_sqs_queue.this.arn]
  }
}
