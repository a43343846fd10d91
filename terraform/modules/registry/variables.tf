variable "repository_name" {
  description = "Name of the ECR repository (the image name)."
  type        = string
  default     = "template-api"

  validation {
    condition     = can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", var.repository_name)) && length(var.repository_name) <= 256
    error_message = "repository_name must be a valid ECR repository name (lowercase, digits, . _ - /)."
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

variable "partition" {
  description = "AWS partition."
  type        = string
  default     = "aws"
}

variable "keep_tagged_images" {
  description = "Number of tagged images kept; older ones expire."
  type        = number
  default     = 100

  validation {
    condition     = var.keep_tagged_images >= 10 && var.keep_tagged_images <= 1000
    error_message = "keep_tagged_images must be between 10 and 1000 (enough to roll back)."
  }
}

variable "untagged_expiry_days" {
  description = "Days after which untagged images expire."
  type        = number
  default     = 14

  validation {
    condition     = var.untagged_expiry_days >= 1 && var.untagged_expiry_days <= 90
    error_message = "untagged_expiry_days must be between 1 and 90."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
