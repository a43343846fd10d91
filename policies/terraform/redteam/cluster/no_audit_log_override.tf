# The control plane's audit log turned off (it is the noisy one).
# want: cluster.audit_logs aws_eks_cluster.this
resource "aws_eks_cluster" "this" {
  enabled_cluster_log_types = ["api", "authenticator"]
}
