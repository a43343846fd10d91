# Staging: the shared stack (../../modules/stack) with staging's settings. The lines
# below are the whole difference between the environments (diff with ../production/main.tf):
# one shared NAT (flagged on every plan), a single-AZ database without deletion protection,
# a week of backups, 90 days of logs. The API endpoint may be opened to named networks here
# (cluster_endpoint_public_access with cluster_public_access_cidrs), never in production.
module "stack" {
  source = "../../modules/stack"

  environment = "staging"

  vpc_cidr                       = "10.20.0.0/16"
  nat_gateway_per_az             = false
  log_retention_days             = 90
  node_min_size                  = 2
  node_max_size                  = 4
  db_instance_class              = "db.t4g.medium"
  db_multi_az                    = false
  db_deletion_protection         = false
  db_backup_retention_days       = 7
  cluster_endpoint_public_access = false

  # Per account, given at plan time (variables.tf).
  account_id               = var.account_id
  region                   = var.region
  availability_zones       = var.availability_zones
  admin_role_arns          = var.admin_role_arns
  github_oidc_provider_arn = var.github_oidc_provider_arn
  state_bucket_name        = var.state_bucket_name
}
