variable "name" {
  description = "Prefix of every name, e.g. template-api-staging."
  type        = string
}

variable "environment" {
  description = "staging or production (also the default GitHub environment of the deploy role)."
  type        = string

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment must be staging or production."
  }
}

variable "account_id" {
  description = "AWS account id (12 digits)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region."
  type        = string
}

variable "partition" {
  description = "AWS partition."
  type        = string
  default     = "aws"
}

variable "cluster_name" {
  description = "Name of the EKS cluster the deploy role may describe and is given access to."
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (IRSA)."
  type        = string
}

variable "oidc_issuer" {
  description = "OIDC issuer of the cluster without https:// (oidc.eks.<region>.amazonaws.com/id/<id>)."
  type        = string
}

variable "app_namespace" {
  description = "Kubernetes namespace of the application."
  type        = string
  default     = "template-api"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.app_namespace))
    error_message = "app_namespace must be a Kubernetes namespace name (no wildcards)."
  }
}

variable "app_service_account" {
  description = "ServiceAccount of the application (annotated with app_role_arn)."
  type        = string
  default     = "template-api"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", var.app_service_account))
    error_message = "app_service_account must be a Kubernetes name (no wildcards)."
  }
}

variable "external_secrets_service_account" {
  description = "ServiceAccount (in app_namespace) that the SecretStore authenticates as (annotated with external_secrets_role_arn)."
  type        = string
  default     = "external-secrets"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", var.external_secrets_service_account))
    error_message = "external_secrets_service_account must be a Kubernetes name (no wildcards)."
  }
}

variable "db_resource_id" {
  description = "Resource id (db-...) of the RDS instance, for the rds-db:connect ARN."
  type        = string
}

variable "db_user" {
  description = "The one database user the app may connect as with IAM authentication."
  type        = string
  default     = "app"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]*$", var.db_user))
    error_message = "db_user must be a plain PostgreSQL role name (no wildcards)."
  }
}

variable "app_secret_arn_pattern" {
  description = "ARN of the app's database secret, its random suffix written as -??????."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+-\\?\\?\\?\\?\\?\\?$", var.app_secret_arn_pattern))
    error_message = "app_secret_arn_pattern must be one secret's ARN ending in -?????? (no *)."
  }
}

variable "secrets_kms_key_arn" {
  description = "KMS key that encrypts the app secret (decrypt is allowed only through Secrets Manager)."
  type        = string
}

variable "ecr_repository_name" {
  description = "The one ECR repository the push role may push to."
  type        = string
  default     = "template-api"
}

variable "github_repository" {
  description = "GitHub repository (owner/name) whose workflows may assume the CI roles."
  type        = string
  default     = "platform-template/template-api"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be exactly owner/name: wildcards would let other repositories assume the CI roles."
  }
}

variable "github_push_ref" {
  description = "The Git ref whose workflows may push images (a branch or tag, never a pattern)."
  type        = string
  default     = "refs/heads/main"

  validation {
    condition     = can(regex("^refs/(heads|tags)/[A-Za-z0-9._/-]+$", var.github_push_ref))
    error_message = "github_push_ref must be one full ref such as refs/heads/main (no wildcards)."
  }
}

variable "github_deploy_environment" {
  description = "GitHub environment whose jobs may deploy (default: the environment name), protected by reviewers in GitHub."
  type        = string
  default     = null

  validation {
    condition     = var.github_deploy_environment == null || can(regex("^[A-Za-z0-9._-]+$", var.github_deploy_environment))
    error_message = "github_deploy_environment must be one GitHub environment name (no wildcards)."
  }
}

variable "github_oidc_provider_arn" {
  description = "ARN of an existing GitHub Actions OIDC provider in the account (there can be only one); null creates it."
  type        = string
  default     = null
}

variable "state_bucket_name" {
  description = "S3 bucket of the Terraform state (the plan role may read this environment's state, nothing else; plan with -lock=false)."
  type        = string
}

variable "state_key" {
  description = "Key of this environment's state object in the bucket."
  type        = string
}

variable "deployer_kubernetes_group" {
  description = "Kubernetes group the deploy role is mapped to by its EKS access entry; the namespaced ci-deployer Role is bound to it."
  type        = string
  default     = "template-api:ci-deployers"

  validation {
    condition     = !startswith(var.deployer_kubernetes_group, "system:")
    error_message = "deployer_kubernetes_group must not be a system: group."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
