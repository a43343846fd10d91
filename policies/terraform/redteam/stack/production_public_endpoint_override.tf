# Production's Kubernetes API opened to the world by overriding the cluster's vpc_config.
# root: envs/production
# into: modules/cluster
# refused: production keeps the Kubernetes API endpoint private
resource "aws_eks_cluster" "this" {
  vpc_config {
    subnet_ids              = var.subnet_ids
    endpoint_private_access = true
    endpoint_public_access  = true
    public_access_cidrs     = ["0.0.0.0/0"]
  }
}
