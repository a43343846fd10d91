# A bastion group with SSH from anywhere written inline (ingress blocks, not rule resources).
# want: network.internet_ingress aws_security_group.bastion
resource "aws_security_group" "bastion" {
  name        = "redteam-bastion"
  description = "SSH from anywhere"
  vpc_id      = aws_vpc.this.id

  ingress {
    description = "SSH"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
