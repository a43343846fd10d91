# A role a foreign account can assume.
# want: iam.trust_foreign_account aws_iam_role.vendor
resource "aws_iam_role" "vendor" {
  name = "redteam-vendor"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { AWS = "arn:aws:iam::222222222222:root" }, Action = "sts:AssumeRole" }]
  })
}
