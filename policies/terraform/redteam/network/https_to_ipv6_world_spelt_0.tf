# The IPv6 internet written 0::/0 on a group that is not a load balancer's.
# want: network.internet_ingress aws_vpc_security_group_ingress_rule.app_v6
resource "aws_vpc_security_group_ingress_rule" "app_v6" {
  security_group_id = aws_security_group.app.id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv6         = "0::/0"
}
