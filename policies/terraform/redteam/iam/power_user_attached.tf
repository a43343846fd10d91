# PowerUserAccess: everything but IAM, where only AdministratorAccess was refused.
# want: iam.admin_managed_policy aws_iam_role_policy_attachment.power_user
resource "aws_iam_role_policy_attachment" "power_user" {
  role       = aws_iam_role.app.name
  policy_arn = "arn:aws:iam::aws:policy/PowerUserAccess"
}
