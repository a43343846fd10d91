# The AWS-managed AdministratorAccess policy attached to a workload role.
# want: iam.admin_managed_policy aws_iam_role_policy_attachment.admin
resource "aws_iam_role_policy_attachment" "admin" {
  role       = aws_iam_role.app.name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}
