# A key policy that lets anyone decrypt.
# want: resource_policy.public aws_kms_key.logs
resource "aws_kms_key" "logs" {
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Sid = "AccountAdministration", Effect = "Allow", Principal = { AWS = "arn:aws:iam::111111111111:root" }, Action = "kms:*", Resource = "*" },
      { Sid = "Everyone", Effect = "Allow", Principal = "*", Action = "kms:Decrypt", Resource = "*" },
    ]
  })
}
