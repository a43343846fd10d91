# Ingress from an address known only at apply (an Elastic IP): it could be anywhere on the internet.
# want: network.unknown_ingress_source aws_vpc_security_group_ingress_rule.from_eip
resource "aws_eip" "somewhere" {
  domain = "vpc"
}

resource "aws_vpc_security_group_ingress_rule" "from_eip" {
  security_group_id = "sg-0cccccccccccccccc"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = "${aws_eip.somewhere.public_ip}/32"
}
