# iam:PassRole on role/*: hand any role of the account, an administrator's too, to a service it runs.
# want: iam.privilege_escalation aws_iam_role_policy.pass_any
# want: iam.write_everywhere aws_iam_role_policy.pass_any
resource "aws_iam_role_policy" "pass_any" {
  name   = "pass-any"
  role   = aws_iam_role.app.name
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "iam:PassRole", Resource = "arn:aws:iam::111111111111:role/*" }] })
}
