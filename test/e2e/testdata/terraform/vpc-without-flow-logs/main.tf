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

# Guardrail (Rego): every VPC has flow logs.
resource "aws_vpc" "silent" {
  cidr_block = "10.99.0.0/16"
}

# Its default security group is stripped, so only the flow log rule fires.
resource "aws_default_security_group" "silent" {
  vpc_id  = aws_vpc.silent.id
  ingress = []
  egress  = []
}
