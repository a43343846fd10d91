output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "IPv4 CIDR of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "private_subnet_ids" {
  description = "Subnets for workloads (EKS nodes), one per availability zone."
  value       = aws_subnet.private[*].id
}

output "data_subnet_ids" {
  description = "Subnets for the database, one per availability zone, without a route out of the VPC."
  value       = aws_subnet.data[*].id
}

output "public_subnet_ids" {
  description = "Subnets for NAT gateways and internet-facing load balancers only."
  value       = aws_subnet.public[*].id
}

output "nat_gateway_count" {
  description = "Number of NAT gateways."
  value       = local.nat_count
}
