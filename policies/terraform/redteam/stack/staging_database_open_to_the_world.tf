# "The developers need to reach the database from home for a quick fix" (workshop lab 05).
# root: envs/staging
# into: modules/database
# want: network.internet_ingress module.stack.module.database.aws_vpc_security_group_ingress_rule.postgres_from_anywhere
resource "aws_vpc_security_group_ingress_rule" "postgres_from_anywhere" {
  security_group_id = aws_security_group.db.id
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
  cidr_ipv4         = "0.0.0.0/0"
}
