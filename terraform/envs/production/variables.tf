# Given at plan time (terraform plan -var account_id=... or a *.tfvars file): what depends on the
# account rather than on the environment. Their meaning and checks are in ../../modules/stack.

variable "account_id" {
  description = "AWS account id (12 digits). The provider refuses any other account."
  type        = string
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-1"
}

variable "availability_zones" {
  description = "Availability zones of the region to spread over (2 or 3)."
  type        = list(string)
  default     = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
}

variable "admin_role_arns" {
  description = "IAM roles given cluster-admin (EKS access entries) and the audit role (people, break-glass)."
  type        = list(string)
  default     = []
}

variable "github_oidc_provider_arn" {
  description = "The account's existing GitHub OIDC provider; null creates it (one per account)."
  type        = string
  default     = null
}

variable "state_bucket_name" {
  description = "State bucket made by terraform/bootstrap; null means template-api-tfstate-<account_id>."
  type        = string
  default     = null
}
