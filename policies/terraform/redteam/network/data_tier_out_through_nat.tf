# A default route from the data tier through the NAT: the database can reach the internet.
# want: network.data_tier_egress aws_route.data_out
resource "aws_route" "data_out" {
  route_table_id         = aws_route_table.data.id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this.id
}
