variable "name" {
  description = "Identifier of the DB instance and prefix of the other names, e.g. template-api-staging."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,58}[a-z0-9]$", var.name)) && !strcontains(var.name, "--")
    error_message = "name must be a valid RDS identifier: lowercase letters, digits and single hyphens, starting with a letter."
  }
}

variable "environment" {
  description = "staging or production."
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

variable "vpc_id" {
  description = "VPC of the database."
  type        = string
}

variable "subnet_ids" {
  description = "The data subnets (at least two zones); the database is placed only there."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must name at least two subnets (two availability zones)."
  }
}

variable "workload_security_group_id" {
  description = "Security group of the workloads (the EKS cluster security group): the only source admitted on 5432."
  type        = string
}

variable "engine_version" {
  description = "PostgreSQL major.minor version."
  type        = string
  default     = "17.4"

  validation {
    condition     = can(regex("^1[6-9]\\.[0-9]+$", var.engine_version))
    error_message = "engine_version must be PostgreSQL 16 or later, as major.minor (e.g. 17.4)."
  }
}

variable "instance_class" {
  description = "DB instance class: a current Graviton or Intel generation (t4g, m6g, m6i, m7g, m7i, r6g, r6i, r7g, r7i, m8g, r8g)."
  type        = string
  default     = "db.t4g.medium"

  validation {
    condition     = can(regex("^db\\.(t4g|m6g|m6i|m7g|m7i|m8g|r6g|r6i|r7g|r7i|r8g)\\.(micro|small|medium|large|[0-9]*xlarge)$", var.instance_class))
    error_message = "instance_class must be a current generation class (db.t4g, db.m6g/m6i/m7g/m7i/m8g, db.r6g/r6i/r7g/r7i/r8g), e.g. db.t4g.medium; older or burstable-without-credits classes are refused."
  }
}

variable "allocated_storage_gb" {
  description = "Initial storage in GiB."
  type        = number
  default     = 20

  validation {
    condition     = var.allocated_storage_gb >= 20 && var.allocated_storage_gb <= 65536
    error_message = "allocated_storage_gb must be between 20 and 65536."
  }
}

variable "max_allocated_storage_gb" {
  description = "Upper bound of storage autoscaling in GiB."
  type        = number
  default     = 100
}

variable "backup_retention_days" {
  description = "Days of automated backups (7-35; production needs at least 14)."
  type        = number
  default     = 7

  validation {
    condition     = var.backup_retention_days >= 7 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 7 and 35."
  }
}

variable "multi_az" {
  description = "Standby in a second availability zone (required in production)."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Refuse to delete the instance (required in production)."
  type        = bool
  default     = true
}

variable "skip_final_snapshot" {
  description = "Delete without a final snapshot (never in production)."
  type        = bool
  default     = false
}

variable "database_name" {
  description = "Name of the application database."
  type        = string
  default     = "app"
}

variable "app_user" {
  description = "Database user of the application (IAM authentication, or the password in the app secret)."
  type        = string
  default     = "app"
}

variable "log_kms_key_arn" {
  description = "KMS key of the log groups the PostgreSQL logs are exported to."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the exported PostgreSQL logs."
  type        = number
  default     = 90

  validation {
    condition     = contains([30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value of at least 30."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
