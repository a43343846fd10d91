# EKS nodes placed in the public subnets.
# want: network.workloads_in_public_subnets aws_eks_node_group.public_nodes
resource "aws_launch_template" "nodes" {
  name_prefix = "redteam-nodes-"
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }
}

resource "aws_eks_node_group" "public_nodes" {
  cluster_name    = "redteam"
  node_group_name = "public"
  node_role_arn   = "arn:aws:iam::111111111111:role/redteam-node"
  subnet_ids      = [aws_subnet.public.id]
  scaling_config {
    min_size     = 2
    max_size     = 2
    desired_size = 2
  }
  launch_template {
    id      = aws_launch_template.nodes.id
    version = aws_launch_template.nodes.latest_version
  }
}
