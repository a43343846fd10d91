output "app_role_arn" {
  description = "Role of the app's ServiceAccount: annotate it with eks.amazonaws.com/role-arn."
  value       = aws_iam_role.irsa["app"].arn
}

output "external_secrets_role_arn" {
  description = "Role of the External Secrets ServiceAccount: annotate it with eks.amazonaws.com/role-arn."
  value       = aws_iam_role.irsa["external_secrets"].arn
}

output "ci_push_role_arn" {
  description = "Role of the image build workflow (push to the one repository), on github_push_ref only."
  value       = aws_iam_role.ci["push"].arn
}

output "ci_deploy_role_arn" {
  description = "Role of the deploy workflow, for jobs of the GitHub environment only."
  value       = aws_iam_role.ci["deploy"].arn
}

output "ci_plan_role_arn" {
  description = "Read-only role of the Terraform plan workflow (pull requests and main)."
  value       = aws_iam_role.ci["plan"].arn
}

output "github_oidc_subjects" {
  description = "The exact GitHub OIDC subjects each CI role trusts."
  value       = local.github_subjects
}
