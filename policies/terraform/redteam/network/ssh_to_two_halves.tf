# SSH open to 0.0.0.0/1 and 128.0.0.0/1: the whole internet, never written 0.0.0.0/0.
# want: network.internet_ingress aws_security_group.bastion
resource "aws_security_group" "bastion" {
  name        = "redteam-bastion"
  description = "SSH for the team"
  vpc_id      = aws_vpc.this.id

  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/1", "128.0.0.0/1"]
  }
}
