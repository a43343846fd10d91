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

# Guardrail (Rego): every log group is encrypted with a KMS key.
resource "aws_cloudwatch_log_group" "plain" {
  name              = "/bad/plain"
  retention_in_days = 30
}
