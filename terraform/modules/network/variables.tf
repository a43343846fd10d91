variable "name" {
  description = "Prefix of every name, e.g. template-api-staging."
  type        = string
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
  description = "AWS account id (12 digits), for ARNs known at plan time."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region (used for the VPC endpoint service names)."
  type        = string
}

variable "partition" {
  description = "AWS partition."
  type        = string
  default     = "aws"
}

variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC: a private (RFC 1918) block from /16 to /20."
  type        = string

  validation {
    # With a prefix of /16 or longer, the first two octets decide whether the block is private.
    condition = try(
      cidrhost(var.vpc_cidr, 0) == split("/", var.vpc_cidr)[0] &&
      tonumber(split("/", var.vpc_cidr)[1]) >= 16 &&
      tonumber(split("/", var.vpc_cidr)[1]) <= 20 &&
      can(regex("^(10\\.|172\\.(1[6-9]|2[0-9]|3[01])\\.|192\\.168\\.)", var.vpc_cidr)),
      false
    )
    error_message = "vpc_cidr must be a network address in a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) with a prefix from /16 to /20."
  }
}

variable "availability_zones" {
  description = "Two or three availability zones of the region (a variable, so that a plan needs no API call)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 3 && length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "availability_zones must list 2 or 3 distinct zones."
  }
}

variable "nat_gateway_per_az" {
  description = "One NAT gateway per availability zone (true; required in production) or a single shared one (cheaper, staging only)."
  type        = bool
  default     = true
}

variable "flow_log_retention_days" {
  description = "Retention of the VPC flow log group, in days (a CloudWatch Logs value, at least 30)."
  type        = number
  default     = 90

  validation {
    condition     = contains([30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "flow_log_retention_days must be a CloudWatch Logs retention value of at least 30; never-expire (0) is refused."
  }
}

variable "log_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the flow log group (the observability module's key)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be a KMS key ARN: the flow log group is always encrypted."
  }
}

variable "interface_endpoints" {
  description = "AWS services reached through interface VPC endpoints, so that private workloads need not cross the internet."
  type        = list(string)
  default     = ["ecr.api", "ecr.dkr", "sts", "secretsmanager", "logs"]
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
