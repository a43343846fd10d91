# The app secret's resource policy opened to every principal.
# want: resource_policy.public aws_secretsmanager_secret_policy.app
resource "aws_secretsmanager_secret_policy" "app" {
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = "*", Action = "secretsmanager:GetSecretValue", Resource = "*" }]
  })
}
