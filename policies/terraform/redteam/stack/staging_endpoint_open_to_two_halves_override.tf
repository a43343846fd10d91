# Staging's API opened "to named networks" that are the two halves of the internet.
# root: envs/staging
# into: modules/cluster
# want: cluster.public_endpoint module.stack.module.cluster.aws_eks_cluster.this
resource "aws_eks_cluster" "this" {
  vpc_config {
    subnet_ids              = var.subnet_ids
    endpoint_private_access = true
    endpoint_public_access  = true
    public_access_cidrs     = ["0.0.0.0/1", "128.0.0.0/1"]
  }
}
