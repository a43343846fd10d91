output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the platform's log groups (give it to the other modules)."
  value       = module.key.arn
}

output "app_log_group_name" {
  description = "Log group for the application's logs."
  value       = aws_cloudwatch_log_group.app.name
}

output "cluster_log_group_name" {
  description = "Log group EKS writes the control-plane logs to."
  value       = aws_cloudwatch_log_group.cluster.name
}

output "cluster_log_group_arn" {
  description = "ARN of the control-plane log group."
  value       = aws_cloudwatch_log_group.cluster.arn
}
