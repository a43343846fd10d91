# PostgreSQL opened to the whole IPv6 internet by a standalone rule on the workloads' group.
# want: network.internet_ingress aws_vpc_security_group_ingress_rule.postgres_v6
resource "aws_vpc_security_group_ingress_rule" "postgres_v6" {
  security_group_id = aws_security_group.app.id
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
  cidr_ipv6         = "::/0"
}
