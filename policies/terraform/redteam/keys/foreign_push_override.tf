# A repository policy that lets a foreign account push.
# want: resource_policy.foreign_account aws_ecr_repository_policy.this
resource "aws_ecr_repository_policy" "this" {
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Sid = "Vendor", Effect = "Allow", Principal = { AWS = "arn:aws:iam::222222222222:root" }, Action = ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"] }]
  })
}
