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
