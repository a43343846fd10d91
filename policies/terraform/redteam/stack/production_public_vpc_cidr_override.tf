# Production's VPC given a public block: addresses the internet routes elsewhere.
# root: envs/production
# refused: vpc_cidr must be a network address in a private range
module "stack" {
  vpc_cidr = "203.0.113.0/24"
}
