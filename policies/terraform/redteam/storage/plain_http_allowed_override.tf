# The bucket policy without its TLS-only statement.
# want: s3.tls_only aws_s3_bucket.data
resource "aws_s3_bucket_policy" "data" {
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Sid = "Admins", Effect = "Allow", Principal = { AWS = "arn:aws:iam::111111111111:role/Admin" }, Action = "s3:ListBucket", Resource = "arn:aws:s3:::redteam-data-111111111111" }]
  })
}
