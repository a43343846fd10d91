# Production's Kubernetes API endpoint made public by its variable, "only for our office".
# root: envs/production
# refused: production keeps the Kubernetes API endpoint private
module "stack" {
  cluster_endpoint_public_access = true
  cluster_public_access_cidrs    = ["203.0.113.0/24"]
}
