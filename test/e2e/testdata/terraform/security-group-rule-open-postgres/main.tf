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

# Guardrail (Rego): a standalone ingress rule may not open PostgreSQL to the internet (IPv6 too).
resource "aws_vpc_security_group_ingress_rule" "postgres_v6" {
  security_group_id = "sg-0cccccccccccccccc"
  description       = "PostgreSQL from anywhere"
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
  cidr_ipv6         = "::/0"
}
