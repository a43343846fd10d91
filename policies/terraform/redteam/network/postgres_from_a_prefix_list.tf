# PostgreSQL opened to a managed prefix list made outside this plan (it may hold 0.0.0.0/0): the
# addresses are nowhere in the plan, so no CIDR rule sees them.
# want: network.prefix_list_ingress aws_vpc_security_group_ingress_rule.postgres_from_list
resource "aws_vpc_security_group_ingress_rule" "postgres_from_list" {
  security_group_id = aws_security_group.app.id
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
  prefix_list_id    = "pl-0a1b2c3d4e5f60718"
}
