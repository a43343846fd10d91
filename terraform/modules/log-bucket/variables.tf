variable "bucket_name" {
  description = "Name of the access-log bucket."
  type        = string
}

variable "account_id" {
  description = "AWS account id (12 digits) of the logged buckets."
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

variable "source_bucket_arns" {
  description = "ARNs of the buckets whose access is logged here (arn:aws:s3:::name, no wildcard)."
  type        = list(string)

  validation {
    condition     = length(var.source_bucket_arns) > 0 && alltrue([for a in var.source_bucket_arns : can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", a))])
    error_message = "source_bucket_arns must name at least one bucket, each by its exact ARN."
  }
}

variable "retention_days" {
  description = "Days the access logs are kept (at least 365)."
  type        = number
  default     = 731

  validation {
    condition     = var.retention_days >= 365
    error_message = "retention_days must be at least 365."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
