# Production: the shared stack (../../modules/stack) with production's settings. The lines
# below are the whole difference between the environments (diff with ../staging/main.tf):
# a NAT per zone, a multi-AZ database with deletion protection and 30 days of backups, a year
# of logs, a private API endpoint. The modules refuse anything weaker in production.
module "stack" {
  source = "../../modules/stack"

  environment = "production"

  vpc_cidr                       = "10.30.0.0/16"
  nat_gateway_per_az             = true
  log_retention_days             = 365
  node_min_size                  = 3
  node_max_size                  = 6
  db_instance_class              = "db.m7g.large"
  db_multi_az                    = true
  db_deletion_protection         = true
  db_backup_retention_days       = 30
  cluster_endpoint_public_access = false

  # Per account, given at plan time (variables.tf).
  account_id               = var.account_id
  region                   = var.region
  availability_zones       = var.availability_zones
  admin_role_arns          = var.admin_role_arns
  github_oidc_provider_arn = var.github_oidc_provider_arn
  state_bucket_name        = var.state_bucket_name
}
