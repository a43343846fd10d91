# AdministratorAccess given through the role's managed_policy_arns, not through an attachment.
# want: iam.admin_managed_policy aws_iam_role.shadow_admin
resource "aws_iam_role" "shadow_admin" {
  name                = "redteam-shadow-admin"
  managed_policy_arns = ["arn:aws:iam::aws:policy/AdministratorAccess"]
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { AWS = "arn:aws:iam::111111111111:role/Admin" }, Action = "sts:AssumeRole" }]
  })
}
