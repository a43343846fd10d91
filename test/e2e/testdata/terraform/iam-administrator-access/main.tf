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

# Guardrail (Rego): nothing gets the AWS-managed AdministratorAccess policy.
resource "aws_iam_role_policy_attachment" "admin" {
  role       = "deployer"
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}
