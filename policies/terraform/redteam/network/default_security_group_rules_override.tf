# Rules put back on the default security group, which anything without a group falls back on.
# want: network.default_security_group aws_default_security_group.this
resource "aws_default_security_group" "this" {
  ingress = [{
    description      = "members talk to each other"
    from_port        = 0
    to_port          = 0
    protocol         = "-1"
    self             = true
    cidr_blocks      = []
    ipv6_cidr_blocks = []
    prefix_list_ids  = []
    security_groups  = []
  }]
}
