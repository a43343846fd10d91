# An Elastic IP given to a network interface made elsewhere (a node's, an endpoint's): an address
# the internet can reach, past the subnets' tiers.
# want: network.public_address aws_eip.node
resource "aws_eip" "node" {
  domain            = "vpc"
  network_interface = "eni-0a1b2c3d4e5f60718"
}
