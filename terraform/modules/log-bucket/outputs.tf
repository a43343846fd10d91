output "bucket_name" {
  description = "Name of the access-log bucket (target_bucket of aws_s3_bucket_logging)."
  value       = aws_s3_bucket.this.bucket
}

output "policy" {
  description = "The bucket policy (JSON), for tests and reviews."
  value       = aws_s3_bucket_policy.this.policy
}
