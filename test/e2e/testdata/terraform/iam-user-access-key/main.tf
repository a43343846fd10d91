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

# Guardrail (Rego): no IAM users, no long-lived access keys.
resource "aws_iam_user" "ci" {
  name = "ci-bot"
}

resource "aws_iam_access_key" "ci" {
  user = aws_iam_user.ci.name
}
