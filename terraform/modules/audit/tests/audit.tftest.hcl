# terraform test: the audit trail (issue 16): what it records, where, and who can read it.
mock_provider "aws" {
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/cloudtrail/template-api-test-audit" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111111111111:role/template-api-test-cloudtrail-to-logs" }
  }
  mock_resource "aws_cloudtrail" {
    defaults = { arn = "arn:aws:cloudtrail:eu-west-1:111111111111:trail/template-api-test-audit" }
  }
}

variables {
  name                   = "template-api-test"
  account_id             = "111111111111"
  region                 = "eu-west-1"
  log_kms_key_arn        = "arn:aws:kms:eu-west-1:111111111111:key/11111111-1111-1111-1111-111111111111"
  auditor_principal_arns = ["arn:aws:iam::111111111111:role/SecurityAuditor"]
}

run "trail_records_every_region_with_validation_and_its_key" {
  command = apply

  assert {
    condition     = aws_cloudtrail.this.enable_logging && aws_cloudtrail.this.is_multi_region_trail && aws_cloudtrail.this.include_global_service_events
    error_message = "the trail logs management events of every region, global services included"
  }
  assert {
    condition     = aws_cloudtrail.this.enable_log_file_validation
    error_message = "log file validation (digest files) must be on"
  }
  assert {
    condition     = aws_cloudtrail.this.kms_key_id == module.key.arn && module.key.rotation_enabled
    error_message = "the log files are encrypted with the trail's own rotating key"
  }
  assert {
    condition     = one(aws_cloudtrail.this.event_selector).include_management_events && one(aws_cloudtrail.this.event_selector).read_write_type == "All"
    error_message = "read and write management events are recorded"
  }
  assert {
    condition     = aws_cloudtrail.this.s3_bucket_name == "template-api-test-audit-111111111111" && aws_cloudtrail.this.cloud_watch_logs_group_arn == "${aws_cloudwatch_log_group.trail.arn}:*"
    error_message = "the trail is delivered to the dedicated bucket and to the log group"
  }
  assert {
    condition     = aws_cloudwatch_log_group.trail.retention_in_days == 365 && aws_cloudwatch_log_group.trail.kms_key_id == var.log_kms_key_arn
    error_message = "the trail's log group is encrypted and kept a year"
  }
  assert {
    condition     = alltrue([for s in jsondecode(module.key.policy).Statement : s.Principal != { Service = "cloudtrail.amazonaws.com" } || try(s.Condition.StringEquals["aws:SourceArn"], null) == "arn:aws:cloudtrail:eu-west-1:111111111111:trail/template-api-test-audit"])
    error_message = "CloudTrail may use the key for this trail only (aws:SourceArn)"
  }
}

run "bucket_is_versioned_private_and_tls_only" {
  command = plan

  assert {
    condition     = aws_s3_bucket_logging.trail.target_bucket == "template-api-test-audit-111111111111-access-logs"
    error_message = "every request on the trail's bucket is logged"
  }
  assert {
    condition     = aws_s3_bucket_versioning.trail.versioning_configuration[0].status == "Enabled"
    error_message = "the bucket is versioned"
  }
  assert {
    condition     = aws_s3_bucket_public_access_block.trail.block_public_acls && aws_s3_bucket_public_access_block.trail.block_public_policy && aws_s3_bucket_public_access_block.trail.ignore_public_acls && aws_s3_bucket_public_access_block.trail.restrict_public_buckets
    error_message = "every public access is blocked"
  }
  assert {
    condition     = anytrue([for s in jsondecode(aws_s3_bucket_policy.trail.policy).Statement : s.Effect == "Deny" && s.Principal == "*" && s.Action == "s3:*" && try(s.Condition.Bool["aws:SecureTransport"], null) == "false"])
    error_message = "plain HTTP is denied to everyone"
  }
}

# Who can read the log files, decided from the bucket policy document alone: a principal is
# denied s3:GetObject when a Deny statement on s3:GetObject* does not except it; only the audit
# role is excepted, and it alone is allowed.
run "only_the_audit_role_reads_the_log_files" {
  command = plan

  assert {
    condition = alltrue([for p in [
      "arn:aws:iam::111111111111:role/Admin",
      "arn:aws:iam::111111111111:role/template-api-test-ci-deploy",
      "arn:aws:iam::111111111111:role/SecurityAuditor",
      "arn:aws:iam::111111111111:root",
      "arn:aws:iam::222222222222:role/Auditor",
      ] : anytrue([for s in jsondecode(aws_s3_bucket_policy.trail.policy).Statement :
        s.Effect == "Deny" && contains(flatten([s.Action]), "s3:GetObject*") && !contains(flatten([try(s.Condition.StringNotEquals["aws:PrincipalArn"], [])]), p)
    ])])
    error_message = "every principal but the audit role (administrators, CI, the auditors before they assume it, another account) is denied reading the log files"
  }
  assert {
    condition = !anytrue([for s in jsondecode(aws_s3_bucket_policy.trail.policy).Statement :
      s.Effect == "Deny" && contains(flatten([s.Action]), "s3:GetObject*") && !contains(flatten([try(s.Condition.StringNotEquals["aws:PrincipalArn"], [])]), output.auditor_role_arn)
    ])
    error_message = "the audit role is not denied"
  }
  assert {
    condition     = output.auditor_role_arn == "arn:aws:iam::111111111111:role/template-api-test-auditor" && anytrue([for s in jsondecode(aws_s3_bucket_policy.trail.policy).Statement : s.Effect == "Allow" && s.Principal == { AWS = output.auditor_role_arn } && contains(flatten([s.Action]), "s3:GetObject")])
    error_message = "the audit role is allowed to read"
  }
  assert {
    condition     = jsondecode(aws_iam_role.auditor.assume_role_policy).Statement[0].Principal.AWS == ["arn:aws:iam::111111111111:role/SecurityAuditor"]
    error_message = "only the named auditors may assume the audit role"
  }
}

run "only_cloudtrail_writes_the_log_files" {
  command = plan

  assert {
    condition = alltrue([for s in jsondecode(aws_s3_bucket_policy.trail.policy).Statement :
      s.Effect == "Deny" || s.Principal != { Service = "cloudtrail.amazonaws.com" } || try(s.Condition.StringEquals["aws:SourceArn"], null) == "arn:aws:cloudtrail:eu-west-1:111111111111:trail/template-api-test-audit"
    ])
    error_message = "CloudTrail is allowed for this trail only (aws:SourceArn)"
  }
  assert {
    condition = anytrue([for s in jsondecode(aws_s3_bucket_policy.trail.policy).Statement :
      s.Effect == "Deny" && s.Principal == "*" && contains(flatten([s.Action]), "s3:PutObject") && contains(flatten([s.Action]), "s3:DeleteObject") && try(s.Condition.Bool["aws:PrincipalIsAWSService"], null) == "false"
    ])
    error_message = "every IAM principal (not an AWS service) is denied writing or deleting log files"
  }
  assert {
    condition     = length([for s in jsondecode(aws_s3_bucket_policy.trail.policy).Statement : s if s.Effect == "Allow" && contains(flatten([s.Action]), "s3:PutObject")]) == 1
    error_message = "one statement allows writing, CloudTrail's"
  }
}

run "refuses_never_expiring_trail_logs" {
  command = plan
  variables {
    log_group_retention_days = 0
  }
  expect_failures = [var.log_group_retention_days]
}

run "refuses_a_wildcard_auditor" {
  command = plan
  variables {
    auditor_principal_arns = ["arn:aws:iam::111111111111:role/*"]
  }
  expect_failures = [var.auditor_principal_arns]
}
