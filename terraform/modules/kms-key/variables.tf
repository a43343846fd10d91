variable "alias" {
  description = "Name of the alias, without alias/ (e.g. template-api-staging-logs)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9/_-]{1,200}$", var.alias)) && !startswith(var.alias, "aws/")
    error_message = "alias must be letters, digits, / _ - and may not start with aws/ (reserved for AWS managed keys)."
  }
}

variable "description" {
  description = "What the key encrypts."
  type        = string
}

variable "account_id" {
  description = "AWS account id (12 digits): the account whose IAM policies may use the key."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "partition" {
  description = "AWS partition."
  type        = string
  default     = "aws"
}

variable "service_grants" {
  description = "AWS services that may use the key: each gets its actions only, under its conditions ({ test = { key = value } }); a grant without a condition is refused."
  type = list(object({
    sid        = string
    service    = string
    actions    = list(string)
    conditions = map(map(string))
  }))
  default = []

  validation {
    condition     = alltrue([for g in var.service_grants : length(g.conditions) > 0 && endswith(g.service, ".amazonaws.com") && !anytrue([for a in g.actions : a == "kms:*" || a == "*"])])
    error_message = "service_grants: each grant names one AWS service (*.amazonaws.com), lists its actions (never kms:* or *) and carries at least one condition."
  }
}

variable "deletion_window_in_days" {
  description = "Days between the deletion request and the key's deletion (14-30): time to notice and cancel it."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 14 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 14 and 30."
  }
}

variable "tags" {
  description = "Tags added to the key."
  type        = map(string)
  default     = {}
}
