# An S3 endpoint policy that looks held to an account but names any (aws:ResourceAccount "*").
# want: network.endpoint_policy aws_vpc_endpoint.s3
resource "aws_vpc_endpoint" "s3" {
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AnyAccount"
      Effect    = "Allow"
      Principal = "*"
      Action    = "s3:*"
      Resource  = "*"
      Condition = { StringLike = { "aws:ResourceAccount" = "*" } }
    }]
  })
}
