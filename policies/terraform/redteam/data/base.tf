# A production database and its secrets the way modules/database builds them: the secure
# variant of this class.
# admitted: private, encrypted with a key of this plan (storage, Performance Insights, the master secret), TLS forced by its parameter group, deletion protection, multi-AZ, 14 days of backups, a final snapshot, a secret with a resource policy for one role of the account
resource "aws_kms_key" "db" {
  description             = "database"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_db_parameter_group" "this" {
  name   = "redteam-postgres16"
  family = "postgres16"
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
}

resource "aws_db_instance" "this" {
  identifier                            = "redteam"
  engine                                = "postgres"
  engine_version                        = "16.8"
  instance_class                        = "db.m7g.large"
  allocated_storage                     = 20
  username                              = "platform_admin"
  manage_master_user_password           = true
  master_user_secret_kms_key_id         = aws_kms_key.db.arn
  storage_encrypted                     = true
  kms_key_id                            = aws_kms_key.db.arn
  publicly_accessible                   = false
  parameter_group_name                  = aws_db_parameter_group.this.name
  backup_retention_period               = 14
  multi_az                              = true
  deletion_protection                   = true
  skip_final_snapshot                   = false
  final_snapshot_identifier             = "redteam-final"
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.db.arn
  performance_insights_retention_period = 7
}

resource "aws_secretsmanager_secret" "app" {
  name       = "redteam/db-app"
  kms_key_id = aws_kms_key.db.arn
}

resource "aws_secretsmanager_secret_policy" "app" {
  secret_arn          = aws_secretsmanager_secret.app.arn
  block_public_policy = true
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { AWS = "arn:aws:iam::111111111111:role/template-api-production-external-secrets" }, Action = "secretsmanager:GetSecretValue", Resource = "*" }]
  })
}
