# Statements made by a dynamic block over an apply-time list: the plan JSON does not show them.
# want: iam.document_unjudgeable aws_iam_role_policy.worker
data "aws_iam_policy_document" "worker" {
  dynamic "statement" {
    for_each = split(",", aws_sqs_queue.this.arn)
    content {
      effect    = "Allow"
      actions   = ["*"]
      resources = ["*"]
    }
  }
}
