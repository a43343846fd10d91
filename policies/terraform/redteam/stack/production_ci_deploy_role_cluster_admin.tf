# The CI deploy role given cluster-admin inside production's identity module.
# root: envs/production
# into: modules/identity
# want: cluster.ci_cluster_admin module.stack.module.identity.aws_eks_access_policy_association.deploy_admin
resource "aws_eks_access_policy_association" "deploy_admin" {
  cluster_name  = var.cluster_name
  principal_arn = aws_iam_role.ci["deploy"].arn
  policy_arn    = "arn:${var.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
  access_scope {
    type = "cluster"
  }
}
