# terraform test: the access-log bucket: private, versioned, TLS only, written by S3's logging
# service for the named buckets only.
mock_provider "aws" {}

variables {
  bucket_name        = "template-api-test-access-logs"
  account_id         = "111111111111"
  source_bucket_arns = ["arn:aws:s3:::template-api-test-state"]
}

run "only_the_logging_service_writes_for_the_named_buckets" {
  command = plan

  assert {
    condition     = aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Enabled" && aws_s3_bucket_public_access_block.this.block_public_policy && aws_s3_bucket_public_access_block.this.restrict_public_buckets && aws_s3_bucket_ownership_controls.this.rule[0].object_ownership == "BucketOwnerEnforced"
    error_message = "the log bucket is versioned, private and without ACLs"
  }
  assert {
    condition = [for s in jsondecode(output.policy).Statement : [s.Effect, s.Principal, try(s.Condition.ArnEquals["aws:SourceArn"], null), try(s.Condition.StringEquals["aws:SourceAccount"], null)]] == [
      ["Allow", { Service = "logging.s3.amazonaws.com" }, ["arn:aws:s3:::template-api-test-state"], "111111111111"],
      ["Deny", "*", null, null],
    ]
    error_message = "only the S3 logging service writes, for the named bucket of this account; plain HTTP is denied"
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "AES256" && one(aws_s3_bucket_lifecycle_configuration.this.rule).expiration[0].days == 731
    error_message = "SSE-S3 (what log delivery supports), logs kept two years"
  }
}

run "refuses_a_wildcard_source" {
  command = plan
  variables {
    source_bucket_arns = ["arn:aws:s3:::*"]
  }
  expect_failures = [var.source_bucket_arns]
}
