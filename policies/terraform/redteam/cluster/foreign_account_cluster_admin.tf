# A role of another account made cluster administrator through an access entry and an
# association: whoever holds that role, outside this account's control, owns the cluster.
# want: cluster.access_principal aws_eks_access_entry.partner
# want: cluster.access_principal aws_eks_access_policy_association.partner
resource "aws_eks_access_entry" "partner" {
  cluster_name  = aws_eks_cluster.this.name
  principal_arn = "arn:aws:iam::999999999999:role/partner-ops"
  type          = "STANDARD"
}

resource "aws_eks_access_policy_association" "partner" {
  cluster_name  = aws_eks_cluster.this.name
  principal_arn = aws_eks_access_entry.partner.principal_arn
  policy_arn    = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
  access_scope {
    type = "cluster"
  }
}
