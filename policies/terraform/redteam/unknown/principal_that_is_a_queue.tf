# A trust whose principal comes from an apply-time value that is not a role or identity provider.
# want: iam.document_unjudgeable aws_iam_role.queue_trust
data "aws_iam_policy_document" "queue_trust" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = [aws_sqs_queue.this.url]
    }
  }
}

resource "aws_iam_role" "queue_trust" {
  name               = "redteam-queue-trust"
  assume_role_policy = data.aws_iam_policy_document.queue_trust.json
}
