# The nodes' launch template given an SSH key: a way into every node around the API's audit.
# want: cluster.node_ssh aws_launch_template.node
resource "aws_launch_template" "node" {
  key_name = "ops"
}
