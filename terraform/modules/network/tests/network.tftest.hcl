# terraform test: the network module's secure defaults, and each guardrail refusing its bad input.
mock_provider "aws" {
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111111111111:role/mock" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:111111111111:log-group:/mock" }
  }
}

variables {
  name               = "template-api-test"
  environment        = "production"
  account_id         = "111111111111"
  region             = "eu-west-1"
  vpc_cidr           = "10.20.0.0/16"
  availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
  log_kms_key_arn    = "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000"
}

run "secure_defaults" {
  command = apply

  assert {
    condition     = length(aws_default_security_group.this.ingress) == 0 && length(aws_default_security_group.this.egress) == 0
    error_message = "the default security group must have no rules"
  }
  assert {
    condition     = aws_flow_log.this.traffic_type == "ALL" && aws_flow_log.this.log_destination_type == "cloud-watch-logs"
    error_message = "flow logs must record all traffic to CloudWatch Logs"
  }
  assert {
    condition     = aws_cloudwatch_log_group.flow_logs.kms_key_id == var.log_kms_key_arn && aws_cloudwatch_log_group.flow_logs.retention_in_days == 90
    error_message = "the flow log group must be encrypted with the given key and expire"
  }
  assert {
    condition     = length(aws_nat_gateway.this) == 3 && length(aws_route.private_nat) == 3
    error_message = "one NAT gateway per zone by default"
  }
  assert {
    condition     = alltrue([for s in aws_subnet.public : !s.map_public_ip_on_launch])
    error_message = "public subnets must not hand out public IPs"
  }
  assert {
    condition     = toset(keys(aws_vpc_endpoint.interface)) == toset(["ecr.api", "ecr.dkr", "sts", "secretsmanager", "logs"]) && aws_vpc_endpoint.s3.vpc_endpoint_type == "Gateway"
    error_message = "S3 gateway and ECR/STS/Secrets Manager/Logs interface endpoints expected"
  }
  assert {
    condition     = alltrue([for e in aws_vpc_endpoint.interface : e.private_dns_enabled && e.subnet_ids == toset(aws_subnet.private[*].id)])
    error_message = "interface endpoints must sit in the private subnets with private DNS"
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.endpoints_https.cidr_ipv4 == var.vpc_cidr && aws_vpc_security_group_ingress_rule.endpoints_https.from_port == 443
    error_message = "the endpoints admit HTTPS from the VPC only"
  }
  assert {
    condition     = [for s in aws_subnet.data : s.cidr_block] == ["10.20.64.0/20", "10.20.80.0/20", "10.20.96.0/20"]
    error_message = "data subnets are blocks 4-6 of the VPC"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.flow_logs.policy).Statement[0].Resource == "arn:aws:logs:eu-west-1:111111111111:log-group:/template-api-test/vpc-flow-logs:*"
    error_message = "the flow log role may write to its own log group only"
  }
}

run "single_nat_is_flagged_in_staging" {
  command = plan
  variables {
    environment        = "staging"
    nat_gateway_per_az = false
  }
  expect_failures = [check.nat_redundancy]

  assert {
    condition     = length(aws_nat_gateway.this) == 1 && length(aws_route.private_nat) == 3
    error_message = "a single NAT gateway serves the three private route tables"
  }
}

run "production_refuses_single_nat" {
  command = plan
  variables {
    nat_gateway_per_az = false
  }
  expect_failures = [aws_vpc.this, check.nat_redundancy]
}

run "refuses_public_cidr" {
  command = plan
  variables {
    vpc_cidr = "8.8.0.0/16"
  }
  expect_failures = [var.vpc_cidr]
}

run "refuses_too_wide_cidr" {
  command = plan
  variables {
    vpc_cidr = "10.0.0.0/8"
  }
  expect_failures = [var.vpc_cidr]
}

run "refuses_cidr_that_is_not_a_network_address" {
  command = plan
  variables {
    vpc_cidr = "10.20.1.0/16"
  }
  expect_failures = [var.vpc_cidr]
}

run "refuses_a_single_zone" {
  command = plan
  variables {
    availability_zones = ["eu-west-1a"]
  }
  expect_failures = [var.availability_zones]
}

run "refuses_never_expiring_flow_logs" {
  command = plan
  variables {
    flow_log_retention_days = 0
  }
  expect_failures = [var.flow_log_retention_days]
}

run "refuses_unencrypted_flow_logs" {
  command = plan
  variables {
    log_kms_key_arn = ""
  }
  expect_failures = [var.log_kms_key_arn]
}

run "refuses_an_unknown_environment" {
  command = plan
  variables {
    environment = "prod"
  }
  expect_failures = [var.environment]
}

run "refuses_a_malformed_account_id" {
  command = plan
  variables {
    account_id = "1111-2222-3333"
  }
  expect_failures = [var.account_id]
}

run "refuses_duplicate_zones" {
  command = plan
  variables {
    availability_zones = ["eu-west-1a", "eu-west-1a"]
  }
  expect_failures = [var.availability_zones]
}
