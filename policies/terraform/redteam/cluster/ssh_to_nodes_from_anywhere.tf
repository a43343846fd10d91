# A node group "for debugging" with an SSH key and no source security group: EKS opens port 22 of
# every node to the internet through a security group of its own, which no rule of the plan sees.
# want: cluster.node_ssh aws_eks_node_group.ops
# want: cluster.node_metadata aws_eks_node_group.ops
resource "aws_eks_node_group" "ops" {
  cluster_name    = aws_eks_cluster.this.name
  node_group_name = "ops"
  node_role_arn   = "arn:aws:iam::111111111111:role/redteam-node"
  subnet_ids      = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  scaling_config {
    min_size     = 1
    max_size     = 1
    desired_size = 1
  }
  remote_access {
    ec2_ssh_key = "ops"
  }
}
