variable "environment" {
  description = "staging or production: production's rules are stricter (see the modules' preconditions)."
  type        = string

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment must be staging or production."
  }
}

variable "account_id" {
  description = "AWS account id of the environment (12 digits)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-1"
}

variable "partition" {
  description = "AWS partition."
  type        = string
  default     = "aws"
}

variable "availability_zones" {
  description = "Availability zones to spread over (2 or 3), given so that a plan needs no API call."
  type        = list(string)
  default     = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
}

variable "vpc_cidr" {
  description = "CIDR of the VPC."
  type        = string
}

variable "nat_gateway_per_az" {
  description = "One NAT gateway per zone (true; production requires it) or one shared NAT (staging)."
  type        = bool
}

variable "log_retention_days" {
  description = "Retention of every log group, in days."
  type        = number
}

variable "kubernetes_version" {
  description = "EKS Kubernetes version."
  type        = string
  default     = "1.33"
}

variable "cluster_endpoint_public_access" {
  description = "Expose the Kubernetes API on the internet too, from cluster_public_access_cidrs (refused in production)."
  type        = bool
  default     = false
}

variable "cluster_public_access_cidrs" {
  description = "Networks allowed to reach a public API endpoint."
  type        = list(string)
  default     = []
}

variable "node_instance_types" {
  description = "Instance types of the nodes."
  type        = list(string)
  default     = ["m7i.large"]
}

variable "node_min_size" {
  description = "Minimum (and initial) number of nodes."
  type        = number
}

variable "node_max_size" {
  description = "Maximum number of nodes."
  type        = number
}

variable "admin_role_arns" {
  description = "IAM roles given cluster-admin through EKS access entries (people, break-glass)."
  type        = list(string)
  default     = []
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
}

variable "db_multi_az" {
  description = "Multi-AZ database (production requires it)."
  type        = bool
}

variable "db_deletion_protection" {
  description = "Deletion protection of the database (production requires it)."
  type        = bool
}

variable "db_backup_retention_days" {
  description = "Days of automated database backups."
  type        = number
}

variable "github_repository" {
  description = "GitHub repository (owner/name) trusted by the CI roles."
  type        = string
  default     = "platform-template/template-api"
}

variable "github_oidc_provider_arn" {
  description = "Existing GitHub OIDC provider of the account (one per account); null creates it here."
  type        = string
  default     = null
}

variable "state_bucket_name" {
  description = "State bucket (the plan role may read this env's state); default template-api-tfstate-<account_id>, as made by terraform/bootstrap."
  type        = string
  default     = null
}
