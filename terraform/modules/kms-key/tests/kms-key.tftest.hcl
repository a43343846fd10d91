# terraform test: the one KMS key construct: rotation, the policy it writes, its refusals.
mock_provider "aws" {
  mock_resource "aws_kms_key" {
    defaults = {
      arn    = "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000"
      key_id = "00000000-0000-0000-0000-000000000000"
    }
  }
}

variables {
  alias       = "template-api-test-logs"
  description = "test key"
  account_id  = "111111111111"
  service_grants = [{
    sid        = "CloudWatchLogs"
    service    = "logs.eu-west-1.amazonaws.com"
    actions    = ["kms:Encrypt*", "kms:Decrypt*"]
    conditions = { ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "arn:aws:logs:eu-west-1:111111111111:log-group:*" } }
  }]
}

run "rotating_key_with_an_alias_and_scoped_grants" {
  command = apply

  assert {
    condition     = output.rotation_enabled && aws_kms_key.this.deletion_window_in_days == 30 && output.alias_name == "alias/template-api-test-logs"
    error_message = "the key rotates, waits 30 days before deletion and has its alias"
  }
  assert {
    condition = jsondecode(output.policy).Statement == [
      { Sid = "AccountAdministration", Effect = "Allow", Principal = { AWS = "arn:aws:iam::111111111111:root" }, Action = "kms:*", Resource = "*" },
      { Sid = "CloudWatchLogs", Effect = "Allow", Principal = { Service = "logs.eu-west-1.amazonaws.com" }, Action = ["kms:Encrypt*", "kms:Decrypt*"], Resource = "*", Condition = { ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "arn:aws:logs:eu-west-1:111111111111:log-group:*" } } },
    ]
    error_message = "the account administers the key; each service gets its actions under its condition, nothing else"
  }
}

run "refuses_a_grant_without_a_condition" {
  command = plan
  variables {
    service_grants = [{ sid = "Open", service = "logs.eu-west-1.amazonaws.com", actions = ["kms:Decrypt"], conditions = {} }]
  }
  expect_failures = [var.service_grants]
}

run "refuses_every_kms_action_to_a_service" {
  command = plan
  variables {
    service_grants = [{ sid = "All", service = "cloudtrail.amazonaws.com", actions = ["kms:*"], conditions = { StringEquals = { "aws:SourceAccount" = "111111111111" } } }]
  }
  expect_failures = [var.service_grants]
}

run "refuses_an_aws_reserved_alias" {
  command = plan
  variables {
    alias = "aws/s3"
  }
  expect_failures = [var.alias]
}
