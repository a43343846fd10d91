# A second VPC beside the logged one, with no flow log: its traffic is never seen. Its default
# security group is stripped, so only the flow log rule fires.
# want: network.flow_logs aws_vpc.silent
resource "aws_vpc" "silent" {
  cidr_block = "10.99.0.0/16"
}

resource "aws_default_security_group" "silent" {
  vpc_id  = aws_vpc.silent.id
  ingress = []
  egress  = []
}
