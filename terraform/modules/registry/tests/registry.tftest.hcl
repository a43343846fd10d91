# terraform test: the registry module's secure defaults, and its guardrails refusing bad input.
mock_provider "aws" {
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_ecr_repository" {
    defaults = {
      arn            = "arn:aws:ecr:eu-west-1:111111111111:repository/template-api"
      repository_url = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/template-api"
    }
  }
}

variables {
  account_id = "111111111111"
}

run "secure_defaults" {
  command = apply

  assert {
    condition     = aws_ecr_repository.this.image_tag_mutability == "IMMUTABLE"
    error_message = "tags must be immutable"
  }
  assert {
    condition     = aws_ecr_repository.this.image_scanning_configuration[0].scan_on_push
    error_message = "every push must be scanned"
  }
  assert {
    condition     = aws_ecr_repository.this.encryption_configuration[0].encryption_type == "KMS" && aws_ecr_repository.this.encryption_configuration[0].kms_key == module.key.arn && module.key.rotation_enabled
    error_message = "the repository must be encrypted with its own rotating key"
  }
  assert {
    condition     = !aws_ecr_repository.this.force_delete
    error_message = "a repository holding images must not be force-deleted"
  }
  assert {
    condition     = [for r in jsondecode(aws_ecr_lifecycle_policy.this.policy).rules : [r.selection.tagStatus, r.selection.countNumber]] == [["untagged", 14], ["any", 100]]
    error_message = "lifecycle: untagged images expire after 14 days, the last 100 images are kept"
  }
  assert {
    condition     = output.repository_url == "111111111111.dkr.ecr.eu-west-1.amazonaws.com/template-api"
    error_message = "the repository URL is the one the manifests trust"
  }
}

run "refuses_a_lifecycle_that_keeps_too_few_images" {
  command = plan
  variables {
    keep_tagged_images = 1
  }
  expect_failures = [var.keep_tagged_images]
}

run "refuses_a_bad_repository_name" {
  command = plan
  variables {
    repository_name = "Template API"
  }
  expect_failures = [var.repository_name]
}

run "refuses_untagged_images_kept_forever" {
  command = plan
  variables {
    untagged_expiry_days = 365
  }
  expect_failures = [var.untagged_expiry_days]
}
