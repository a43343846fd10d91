# A second node group without a launch template: EKS's defaults let pods reach the metadata.
# want: cluster.node_metadata aws_eks_node_group.bare
resource "aws_eks_node_group" "bare" {
  cluster_name    = aws_eks_cluster.this.name
  node_group_name = "bare"
  node_role_arn   = "arn:aws:iam::111111111111:role/redteam-node"
  subnet_ids      = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  scaling_config {
    min_size     = 2
    max_size     = 2
    desired_size = 2
  }
}
