# terraform test: log groups encrypted and expiring, and the retention guardrails.
mock_provider "aws" {
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:111111111111:log-group:/mock" }
  }
}

variables {
  name           = "template-api-test"
  environment    = "production"
  account_id     = "111111111111"
  region         = "eu-west-1"
  cluster_name   = "template-api-test"
  retention_days = 365
}

run "secure_defaults" {
  command = apply

  assert {
    condition     = aws_cloudwatch_log_group.app.kms_key_id == module.key.arn && aws_cloudwatch_log_group.cluster.kms_key_id == module.key.arn
    error_message = "every log group is encrypted with the logs key"
  }
  assert {
    condition     = aws_cloudwatch_log_group.app.retention_in_days == 365 && aws_cloudwatch_log_group.cluster.retention_in_days == 365
    error_message = "every log group expires"
  }
  assert {
    condition     = aws_cloudwatch_log_group.cluster.name == "/aws/eks/template-api-test/cluster" && aws_cloudwatch_log_group.app.name == "/template-api-test/app"
    error_message = "the cluster log group must be the one EKS writes to"
  }
  assert {
    condition     = module.key.rotation_enabled
    error_message = "the logs key must rotate"
  }
  assert {
    condition     = jsondecode(module.key.policy).Statement[1].Condition.ArnLike["kms:EncryptionContext:aws:logs:arn"] == "arn:aws:logs:eu-west-1:111111111111:log-group:*"
    error_message = "CloudWatch Logs may use the key for this account's log groups only"
  }
}

run "production_refuses_short_retention" {
  command = plan
  variables {
    retention_days = 90
  }
  expect_failures = [aws_cloudwatch_log_group.app, aws_cloudwatch_log_group.cluster]
}

run "staging_may_keep_90_days" {
  command = plan
  variables {
    environment    = "staging"
    retention_days = 90
  }
}

run "refuses_never_expiring_logs" {
  command = plan
  variables {
    retention_days = 0
  }
  expect_failures = [var.retention_days]
}

run "refuses_a_week_of_logs" {
  command = plan
  variables {
    retention_days = 7
  }
  expect_failures = [var.retention_days]
}

run "refuses_an_unknown_environment" {
  command = plan
  variables {
    environment = "dev"
  }
  expect_failures = [var.environment]
}
