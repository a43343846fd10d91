# A bucket policy statement that lets the world read the objects.
# want: resource_policy.public aws_s3_bucket_policy.data
resource "aws_s3_bucket_policy" "data" {
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Sid = "World", Effect = "Allow", Principal = "*", Action = "s3:GetObject", Resource = "arn:aws:s3:::redteam-data-111111111111/*" },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = ["arn:aws:s3:::redteam-data-111111111111", "arn:aws:s3:::redteam-data-111111111111/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}
