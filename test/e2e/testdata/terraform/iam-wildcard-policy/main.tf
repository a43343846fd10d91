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

# Guardrail (Rego): no "*" actions, no write actions on "*" resources.
resource "aws_iam_policy" "admin" {
  name = "everything"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Sid = "Everything", Effect = "Allow", Action = "*", Resource = "*" }]
  })
}

resource "aws_iam_policy" "write_anywhere" {
  name = "write-anywhere"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Sid = "PutAnywhere", Effect = "Allow", Action = ["s3:GetObject", "s3:PutObject"], Resource = "*" }]
  })
}
