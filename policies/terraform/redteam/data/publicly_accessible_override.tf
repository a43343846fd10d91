# The database given a public address: reachable from the internet whatever else protects it.
# want: database.public aws_db_instance.this
resource "aws_db_instance" "this" {
  publicly_accessible = true
}
