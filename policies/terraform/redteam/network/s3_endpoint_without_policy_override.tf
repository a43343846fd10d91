# The S3 gateway endpoint without its policy: AWS's default reaches every bucket of every
# account, the attacker's included, from the private and data subnets past the NAT gateway.
# want: network.endpoint_policy aws_vpc_endpoint.s3
resource "aws_vpc_endpoint" "s3" {
  policy = null
}
