# The article's incident, one layer down: the CI deploy role given cluster-admin "because
# deployments kept failing".
# want: cluster.ci_cluster_admin aws_eks_access_policy_association.deploy_admin
resource "aws_eks_access_policy_association" "deploy_admin" {
  cluster_name  = aws_eks_cluster.this.name
  principal_arn = aws_iam_role.deploy.arn
  policy_arn    = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
  access_scope {
    type = "cluster"
  }
}
