# secretsmanager:Get* on "*", counted as read-only by a spelling rule: it is GetSecretValue on every secret.
# want: iam.data_read_everywhere aws_iam_role_policy.get_star
resource "aws_iam_role_policy" "get_star" {
  name   = "get-star"
  role   = aws_iam_role.app.name
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "secretsmanager:Get*", Resource = "*" }] })
}
