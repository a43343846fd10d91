# The database's storage (and so its snapshots and backups) left unencrypted.
# want: database.unencrypted aws_db_instance.this
resource "aws_db_instance" "this" {
  storage_encrypted = false
  kms_key_id        = null
}
