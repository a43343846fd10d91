# rds.force_ssl turned off "for a legacy client": passwords and data cross the VPC in clear.
# want: database.force_ssl aws_db_parameter_group.this
# want: database.force_ssl aws_db_instance.this
resource "aws_db_parameter_group" "this" {
  parameter {
    name  = "rds.force_ssl"
    value = "0"
  }
}
