# Principal "*" with a condition that is always true (any TLS caller): anyone in any account.
# want: iam.trust_any_principal aws_iam_role.open
resource "aws_iam_role" "open" {
  name = "redteam-open"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "*" }
      Action    = "sts:AssumeRole"
      Condition = { Bool = { "aws:SecureTransport" = "true" } }
    }]
  })
}
