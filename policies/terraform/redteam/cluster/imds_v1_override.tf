# IMDSv1 allowed on the nodes: one SSRF in a pod and the node's role is out.
# want: cluster.node_metadata aws_launch_template.node
resource "aws_launch_template" "node" {
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "optional"
    http_put_response_hop_limit = 1
  }
}
