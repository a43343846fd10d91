# The names the Kubernetes overlays and the workflows document: keep them stable.

output "app_role_arn" {
  description = "IRSA role of the app: eks.amazonaws.com/role-arn of ServiceAccount template-api."
  value       = module.identity.app_role_arn
}

output "external_secrets_role_arn" {
  description = "IRSA role of the External Secrets ServiceAccount: eks.amazonaws.com/role-arn."
  value       = module.identity.external_secrets_role_arn
}

output "ecr_repository_url" {
  description = "Where the build workflow pushes the image."
  value       = module.registry.repository_url
}

output "ci_push_role_arn" {
  description = "Role the build workflow assumes (main branch only)."
  value       = module.identity.ci_push_role_arn
}

output "ci_deploy_role_arn" {
  description = "Role the deploy workflow assumes (GitHub environment of this env only)."
  value       = module.identity.ci_deploy_role_arn
}

output "ci_plan_role_arn" {
  description = "Read-only role the Terraform plan workflow assumes."
  value       = module.identity.ci_plan_role_arn
}

output "db_endpoint" {
  description = "DB_HOST of the app."
  value       = module.database.endpoint
}

output "db_port" {
  description = "DB_PORT of the app."
  value       = module.database.port
}

output "db_name" {
  description = "DB_NAME of the app."
  value       = module.database.database_name
}

output "db_user" {
  description = "DB_USER of the app."
  value       = module.database.app_user
}

output "db_secret_arn" {
  description = "Secret with the app user's password (read by External Secrets)."
  value       = module.database.app_secret_arn
}

output "db_secret_name" {
  description = "Name of that secret (the ExternalSecret's remoteRef.key)."
  value       = module.database.app_secret_name
}

output "cluster_name" {
  description = "EKS cluster (aws eks update-kubeconfig --name ...)."
  value       = module.cluster.name
}

output "app_log_group_name" {
  description = "Log group of the app's logs."
  value       = module.observability.app_log_group_name
}

output "region" {
  description = "AWS region (AWS_REGION of the app with DB_IAM_AUTH)."
  value       = var.region
}

output "audit_trail_arn" {
  description = "The CloudTrail trail of the account's management events, every region."
  value       = module.audit.trail_arn
}

output "audit_bucket_name" {
  description = "Bucket of the trail's log files (readable by the audit role only)."
  value       = module.audit.bucket_name
}

output "auditor_role_arn" {
  description = "The audit role: assume it to read the trail's log files."
  value       = module.audit.auditor_role_arn
}
