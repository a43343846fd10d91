output "endpoint" {
  description = "Host name of the database (DB_HOST)."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Port of the database (DB_PORT)."
  value       = aws_db_instance.this.port
}

output "database_name" {
  description = "Name of the application database (DB_NAME)."
  value       = aws_db_instance.this.db_name
}

output "app_user" {
  description = "Database user of the application (DB_USER)."
  value       = var.app_user
}

output "resource_id" {
  description = "Resource id of the instance (db-...), part of the rds-db:connect ARN."
  value       = aws_db_instance.this.resource_id
}

output "app_secret_name" {
  description = "Name of the secret holding the app user's password."
  value       = aws_secretsmanager_secret.app.name
}

output "app_secret_arn" {
  description = "ARN of the secret holding the app user's password."
  value       = aws_secretsmanager_secret.app.arn
}

output "app_secret_arn_pattern" {
  description = "ARN of the app secret with its random suffix as -?????? (known at plan time, for IAM policies)."
  value       = "arn:${var.partition}:secretsmanager:${var.region}:${var.account_id}:secret:${local.app_secret_name}-??????"
}

output "master_user_secret_arn" {
  description = "ARN of the RDS-managed master password secret (administrators only)."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "kms_key_arn" {
  description = "ARN of the key that encrypts the storage and the secrets."
  value       = module.key.arn
}

output "security_group_id" {
  description = "Security group of the database."
  value       = aws_security_group.db.id
}
