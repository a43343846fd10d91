# IPv6 to the internet gateway from the data tier: out of the VPC, and reachable both ways.
# want: network.data_tier_egress aws_route.data_v6
# want: network.internet_route_from_private_tier aws_route.data_v6
resource "aws_route" "data_v6" {
  route_table_id              = aws_route_table.data.id
  destination_ipv6_cidr_block = "::/0"
  gateway_id                  = aws_internet_gateway.this.id
}
