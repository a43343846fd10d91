# terraform test: the state bucket (private, versioned, encrypted with its key, TLS only) and,
# issue 15, the server access logging of every request on it.
mock_provider "aws" {
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000" }
  }
}

variables {
  account_id = "111111111111"
}

run "state_bucket_private_versioned_encrypted_tls_only" {
  command = plan

  assert {
    condition     = aws_s3_bucket.state.bucket == "template-api-tfstate-111111111111" && aws_s3_bucket_versioning.state.versioning_configuration[0].status == "Enabled"
    error_message = "the state bucket is versioned"
  }
  assert {
    condition     = aws_s3_bucket_public_access_block.state.block_public_acls && aws_s3_bucket_public_access_block.state.block_public_policy && aws_s3_bucket_public_access_block.state.ignore_public_acls && aws_s3_bucket_public_access_block.state.restrict_public_buckets
    error_message = "every public access to the state is blocked"
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.state.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms"
    error_message = "the state is encrypted with the customer-managed key"
  }
  assert {
    condition     = jsondecode(aws_s3_bucket_policy.state.policy).Statement[0].Effect == "Deny" && jsondecode(aws_s3_bucket_policy.state.policy).Statement[0].Condition.Bool["aws:SecureTransport"] == "false"
    error_message = "plain HTTP is denied"
  }
}

run "every_request_on_the_state_is_logged" {
  command = plan

  assert {
    condition     = aws_s3_bucket_logging.state.bucket == aws_s3_bucket.state.bucket && aws_s3_bucket_logging.state.target_bucket == "template-api-tfstate-111111111111-access-logs" && aws_s3_bucket_logging.state.target_prefix == "state/"
    error_message = "server access logging of the state bucket goes to the access-log bucket"
  }
  assert {
    condition = [for s in jsondecode(module.access_logs.policy).Statement : [s.Effect, s.Principal, try(s.Condition.ArnEquals["aws:SourceArn"], null)]] == [
      ["Allow", { Service = "logging.s3.amazonaws.com" }, ["arn:aws:s3:::template-api-tfstate-111111111111"]],
      ["Deny", "*", null],
    ]
    error_message = "only the S3 logging service writes the access logs, for the state bucket only; plain HTTP is denied"
  }
}

run "refuses_access_logs_kept_less_than_a_year" {
  command = plan
  variables {
    access_log_retention_days = 30
  }
  expect_failures = [var.access_log_retention_days]
}
