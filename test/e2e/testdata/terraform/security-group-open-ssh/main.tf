terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
}

# Guardrail (Rego): nothing but 80/443 of a load balancer is open to the internet. The load
# balancer's group (HTTPS, tagged) is admitted; SSH from anywhere is refused.
resource "aws_security_group" "load_balancer" {
  name        = "lb"
  description = "HTTPS from the internet"
  vpc_id      = "vpc-0123456789abcdef0"
  tags        = { Role = "load-balancer" }

  ingress {
    description = "HTTPS"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "ssh_from_anywhere" {
  name        = "bastion"
  description = "SSH from anywhere"
  vpc_id      = "vpc-0123456789abcdef0"

  ingress {
    description = "SSH"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
