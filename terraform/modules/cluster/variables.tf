variable "name" {
  description = "Name of the EKS cluster, e.g. template-api-staging."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,99}$", var.name))
    error_message = "name must be a valid EKS cluster name (letters, digits, hyphens, starting with a letter)."
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

variable "partition" {
  description = "AWS partition."
  type        = string
  default     = "aws"
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane, e.g. 1.33."
  type        = string
  default     = "1.33"

  validation {
    condition     = can(regex("^1\\.(3[1-9]|[4-9][0-9])$", var.kubernetes_version))
    error_message = "kubernetes_version must be 1.31 or later, as major.minor (e.g. 1.33)."
  }
}

variable "subnet_ids" {
  description = "Private subnets of the control-plane network interfaces and of the nodes."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must name at least two private subnets."
  }
}

variable "endpoint_public_access" {
  description = "Expose the Kubernetes API endpoint on the internet as well (never in production; only from public_access_cidrs)."
  type        = bool
  default     = false
}

variable "public_access_cidrs" {
  description = "Networks allowed to reach the public API endpoint, when it is enabled. Never 0.0.0.0/0."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.public_access_cidrs : can(cidrhost(c, 0)) && !contains(["0.0.0.0/0", "::/0"], c) && tonumber(split("/", c)[1]) >= 8])
    error_message = "public_access_cidrs must be valid CIDRs no wider than /8; 0.0.0.0/0 and ::/0 are refused."
  }
}

variable "log_group_name" {
  description = "The encrypted log group made by the observability module for the control-plane logs: /aws/eks/<name>/cluster."
  type        = string
}

variable "node_instance_types" {
  description = "Instance types of the managed node group."
  type        = list(string)
  default     = ["m7i.large"]

  validation {
    condition     = length(var.node_instance_types) > 0 && alltrue([for t in var.node_instance_types : can(regex("^(m|c|r|t)[5-8][a-z]*\\.[0-9]*(medium|large|xlarge)$", t))])
    error_message = "node_instance_types must list current-generation m, c, r or t instance types (medium or larger), e.g. m7i.large."
  }
}

variable "node_min_size" {
  description = "Minimum number of nodes."
  type        = number
  default     = 2

  validation {
    condition     = var.node_min_size >= 2
    error_message = "node_min_size must be at least 2 (one node is a single point of failure)."
  }
}

variable "node_max_size" {
  description = "Maximum number of nodes."
  type        = number
  default     = 4
}

variable "node_desired_size" {
  description = "Initial number of nodes."
  type        = number
  default     = 2
}

variable "node_disk_size_gb" {
  description = "Root volume size of each node, in GiB (encrypted)."
  type        = number
  default     = 50
}

variable "admin_role_arns" {
  description = "IAM roles (people, break-glass) given cluster-admin through EKS access entries."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.admin_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", a))])
    error_message = "admin_role_arns must be IAM role ARNs (no users, no wildcards)."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
