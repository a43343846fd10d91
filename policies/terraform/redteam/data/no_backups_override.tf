# backup_retention_period = 0: no automated backups, no point-in-time recovery.
# want: database.backups aws_db_instance.this
resource "aws_db_instance" "this" {
  backup_retention_period = 0
}
