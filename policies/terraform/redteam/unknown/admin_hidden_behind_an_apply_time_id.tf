# Action "*" on "*" inside a jsonencode that embeds an apply-time id: the whole document is
# unknown at plan, and so used to be waved through.
# want: iam.document_unjudgeable aws_iam_role_policy.hidden_admin
resource "aws_iam_role_policy" "hidden_admin" {
  name = "hidden-admin"
  role = aws_iam_role.worker.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "*", Resource = "*", Condition = { StringEquals = { "aws:SourceArn" = aws_sqs_queue.this.arn } } }]
  })
}
