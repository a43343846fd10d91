output "trail_arn" {
  description = "ARN of the trail."
  value       = aws_cloudtrail.this.arn
}

output "bucket_name" {
  description = "The bucket of the log files (read them as the audit role)."
  value       = aws_s3_bucket.trail.bucket
}

output "auditor_role_arn" {
  description = "The audit role: the one principal that may read the log files."
  value       = local.auditor_role_arn
}

output "log_group_name" {
  description = "CloudWatch log group holding the trail's events."
  value       = aws_cloudwatch_log_group.trail.name
}

output "kms_key_arn" {
  description = "Key that encrypts the log files."
  value       = module.key.arn
}
