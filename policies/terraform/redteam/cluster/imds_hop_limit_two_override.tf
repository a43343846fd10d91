# IMDSv2 with a hop limit of 2: a pod's request reaches the node's metadata and its role.
# want: cluster.node_metadata aws_launch_template.node
resource "aws_launch_template" "node" {
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 2
  }
}
