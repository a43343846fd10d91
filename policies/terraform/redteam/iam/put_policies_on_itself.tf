# iam:Put* on its own role: it writes itself any inline policy it likes.
# want: iam.privilege_escalation aws_iam_role_policy.put_star
resource "aws_iam_role_policy" "put_star" {
  name   = "put-star"
  role   = aws_iam_role.app.name
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "iam:Put*", Resource = "arn:aws:iam::111111111111:role/redteam-app" }] })
}
