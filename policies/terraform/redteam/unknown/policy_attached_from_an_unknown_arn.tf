# A managed policy attached by an ARN known only at apply, and not a policy of this plan.
# want: iam.unknown_attachment aws_iam_role_policy_attachment.mystery
resource "aws_iam_role_policy_attachment" "mystery" {
  role       = aws_iam_role.worker.name
  policy_arn = aws_sqs_queue.this.arn
}
