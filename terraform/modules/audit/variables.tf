variable "name" {
  description = "Prefix of every name, e.g. template-api-staging."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,38}[a-z0-9]$", var.name))
    error_message = "name must be 4-40 lowercase letters, digits or hyphens, starting with a letter."
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
  description = "AWS region of the trail (its home region; it records every region)."
  type        = string
}

variable "partition" {
  description = "AWS partition."
  type        = string
  default     = "aws"
}

variable "auditor_principal_arns" {
  description = "IAM roles of this account that may assume the audit role (people who investigate); empty lets the account's administrators (whoever IAM allows sts:AssumeRole on it) assume it."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.auditor_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$", a))])
    error_message = "auditor_principal_arns must be IAM role ARNs (no users, no wildcards)."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key of the trail's CloudWatch log group (the observability module's logs key)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be a KMS key ARN: the trail's log group is always encrypted."
  }
}

variable "log_group_retention_days" {
  description = "Retention of the trail's CloudWatch log group (a CloudWatch Logs value of at least 90)."
  type        = number
  default     = 365

  validation {
    condition     = contains([90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_group_retention_days)
    error_message = "log_group_retention_days must be a CloudWatch Logs retention value of at least 90; never-expire (0) is refused."
  }
}

variable "log_file_retention_days" {
  description = "Days the log files are kept in the bucket (at least 365)."
  type        = number
  default     = 2557

  validation {
    condition     = var.log_file_retention_days >= 365
    error_message = "log_file_retention_days must be at least 365."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
