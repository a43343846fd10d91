# A key with a scoped service grant and a registry repository the way modules/registry builds it:
# the secure variant of this class.
# admitted: a rotating key, administered by its account, CloudWatch Logs allowed for this account's log groups only; an immutable, scanned, KMS-encrypted repository that one role of the account may pull from
resource "aws_kms_key" "logs" {
  description             = "logs"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Sid = "AccountAdministration", Effect = "Allow", Principal = { AWS = "arn:aws:iam::111111111111:root" }, Action = "kms:*", Resource = "*" },
      {
        Sid       = "CloudWatchLogs"
        Effect    = "Allow"
        Principal = { Service = "logs.eu-west-1.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = { ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "arn:aws:logs:eu-west-1:111111111111:log-group:*" } }
      },
    ]
  })
}

resource "aws_kms_key" "ecr" {
  description             = "registry"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_ecr_repository" "this" {
  name                 = "redteam"
  image_tag_mutability = "IMMUTABLE"
  force_delete         = false
  image_scanning_configuration {
    scan_on_push = true
  }
  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.ecr.arn
  }
}

resource "aws_ecr_repository_policy" "this" {
  repository = aws_ecr_repository.this.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Sid = "NodesPull", Effect = "Allow", Principal = { AWS = "arn:aws:iam::111111111111:role/redteam-node" }, Action = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"] }]
  })
}
