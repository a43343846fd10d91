# PostgreSQL 14 on its default parameter group, where rds.force_ssl is off.
# want: database.force_ssl aws_db_instance.this
resource "aws_db_instance" "this" {
  engine_version       = "14.17"
  parameter_group_name = "default.postgres14"
}
