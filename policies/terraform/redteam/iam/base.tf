# A workload role with bounded powers: the secure variant of this class.
# admitted: iam:PassRole on one named role, one secret, one bucket's objects, kms:Decrypt narrowed by an encryption context, a read-only managed policy
resource "aws_iam_role" "app" {
  name = "redteam-app"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { AWS = "arn:aws:iam::111111111111:role/Admin" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role_policy" "app" {
  name = "bounded"
  role = aws_iam_role.app.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Sid = "PassTheNodeRole", Effect = "Allow", Action = "iam:PassRole", Resource = "arn:aws:iam::111111111111:role/redteam-node" },
      { Sid = "ReadOneSecret", Effect = "Allow", Action = "secretsmanager:GetSecretValue", Resource = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:redteam/app-??????" },
      { Sid = "OneBucket", Effect = "Allow", Action = ["s3:GetObject", "s3:PutObject"], Resource = "arn:aws:s3:::redteam-data/*" },
      {
        Sid       = "DecryptTheState"
        Effect    = "Allow"
        Action    = "kms:Decrypt"
        Resource  = "arn:aws:kms:eu-west-1:111111111111:key/*"
        Condition = { StringEquals = { "kms:EncryptionContext:aws:s3:arn" = "arn:aws:s3:::redteam-state" } }
      },
      { Sid = "RegistryLogin", Effect = "Allow", Action = "ecr:GetAuthorizationToken", Resource = "*" },
    ]
  })
}

resource "aws_iam_role_policy_attachment" "read" {
  role       = aws_iam_role.app.name
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}
