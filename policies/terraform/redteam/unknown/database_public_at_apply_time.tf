# publicly_accessible computed from an apply-time value: unknown, so refused until it is known false.
# want: database.public aws_db_instance.maybe_public
resource "aws_db_instance" "maybe_public" {
  identifier                    = "redteam-maybe-public"
  engine                        = "postgres"
  engine_version                = "17.4"
  instance_class                = "db.t4g.medium"
  allocated_storage             = 20
  username                      = "platform_admin"
  manage_master_user_password   = true
  master_user_secret_kms_key_id = aws_kms_key.this.arn
  storage_encrypted             = true
  kms_key_id                    = aws_kms_key.this.arn
  publicly_accessible           = length(aws_sqs_queue.this.arn) > 0
  parameter_group_name          = "default.postgres17"
  backup_retention_period       = 14
  multi_az                      = true
  deletion_protection           = true
  skip_final_snapshot           = false
  final_snapshot_identifier     = "redteam-maybe-public-final"
}
