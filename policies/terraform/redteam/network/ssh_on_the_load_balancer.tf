# The load balancer's tag borrowed to open SSH: only 80 and 443 of a load balancer may face the internet.
# want: network.internet_ingress aws_vpc_security_group_ingress_rule.lb_ssh
resource "aws_vpc_security_group_ingress_rule" "lb_ssh" {
  security_group_id = aws_security_group.lb.id
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = "0.0.0.0/0"
  tags              = { Role = "load-balancer" }
}
