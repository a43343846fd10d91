# A role of this account registered as a node: whoever assumes it joins system:nodes with the
# kubelet's credentials, past the node groups.
# want: cluster.access_principal aws_eks_access_entry.fake_node
resource "aws_eks_access_entry" "fake_node" {
  cluster_name  = aws_eks_cluster.this.name
  principal_arn = "arn:aws:iam::111111111111:role/build-agent"
  type          = "EC2_LINUX"
}
