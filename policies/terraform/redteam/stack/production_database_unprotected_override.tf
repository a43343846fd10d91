# Production's database left deletable by overriding the resource argument itself (the variable
# stays true): the module's postcondition reads the instance as planned.
# root: envs/production
# into: modules/database
# refused: production requires deletion_protection = true and multi_az = true on the database
resource "aws_db_instance" "this" {
  deletion_protection = false
}
