# A manual snapshot shared with "all": the whole database, public.
# want: database.public_snapshot aws_db_snapshot.everyone
resource "aws_db_snapshot" "everyone" {
  db_instance_identifier = aws_db_instance.this.identifier
  db_snapshot_identifier = "redteam-everyone"
  shared_accounts        = ["all"]
}
