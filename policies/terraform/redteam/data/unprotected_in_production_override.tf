# A production database anyone with the apply role can delete, with nothing kept.
# want: database.deletion_protection aws_db_instance.this
# want: database.final_snapshot aws_db_instance.this
resource "aws_db_instance" "this" {
  deletion_protection       = false
  skip_final_snapshot       = true
  final_snapshot_identifier = null
}
