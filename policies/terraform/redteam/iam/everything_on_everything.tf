# Action "*" on Resource "*": administration under another name.
# want: iam.every_action aws_iam_role_policy.admin
# want: iam.privilege_escalation aws_iam_role_policy.admin
# want: iam.write_everywhere aws_iam_role_policy.admin
resource "aws_iam_role_policy" "admin" {
  name   = "admin"
  role   = aws_iam_role.app.name
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }] })
}
