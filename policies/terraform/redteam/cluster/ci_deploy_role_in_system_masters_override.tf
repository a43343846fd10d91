# The deploy role mapped into system:masters through its access entry.
# want: cluster.ci_cluster_admin aws_eks_access_entry.deploy
# want: cluster.access_principal aws_eks_access_entry.deploy
resource "aws_eks_access_entry" "deploy" {
  kubernetes_groups = ["system:masters"]
}
