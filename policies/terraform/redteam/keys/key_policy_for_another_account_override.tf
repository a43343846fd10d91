# A key policy that lets a foreign account use the key.
# want: resource_policy.foreign_account aws_kms_key.logs
resource "aws_kms_key" "logs" {
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Sid = "AccountAdministration", Effect = "Allow", Principal = { AWS = "arn:aws:iam::111111111111:root" }, Action = "kms:*", Resource = "*" },
      { Sid = "Partner", Effect = "Allow", Principal = { AWS = "arn:aws:iam::222222222222:root" }, Action = ["kms:Decrypt", "kms:DescribeKey"], Resource = "*" },
    ]
  })
}
