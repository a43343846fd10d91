# The whole stack of one environment: the shared wiring of every module, written once. Each
# envs/<env>/main.tf calls it with the settings that differ (compare the two files).
locals {
  environment       = var.environment
  name              = "template-api-${local.environment}"
  state_bucket_name = coalesce(var.state_bucket_name, "template-api-tfstate-${var.account_id}")
  state_key         = "template-api/${local.environment}.tfstate"
}

module "observability" {
  source = "../observability"

  name           = local.name
  environment    = local.environment
  account_id     = var.account_id
  region         = var.region
  partition      = var.partition
  cluster_name   = local.name
  retention_days = var.log_retention_days
}

module "network" {
  source = "../network"

  name                    = local.name
  environment             = local.environment
  account_id              = var.account_id
  region                  = var.region
  partition               = var.partition
  vpc_cidr                = var.vpc_cidr
  availability_zones      = var.availability_zones
  nat_gateway_per_az      = var.nat_gateway_per_az
  flow_log_retention_days = var.log_retention_days
  log_kms_key_arn         = module.observability.kms_key_arn
}

module "registry" {
  source = "../registry"

  repository_name = "template-api"
  account_id      = var.account_id
  partition       = var.partition
}

module "cluster" {
  source = "../cluster"

  name                   = local.name
  environment            = local.environment
  account_id             = var.account_id
  partition              = var.partition
  kubernetes_version     = var.kubernetes_version
  subnet_ids             = module.network.private_subnet_ids
  endpoint_public_access = var.cluster_endpoint_public_access
  public_access_cidrs    = var.cluster_public_access_cidrs
  log_group_name         = module.observability.cluster_log_group_name
  node_instance_types    = var.node_instance_types
  node_min_size          = var.node_min_size
  node_desired_size      = var.node_min_size
  node_max_size          = var.node_max_size
  admin_role_arns        = var.admin_role_arns
}

module "database" {
  source = "../database"

  name                       = local.name
  environment                = local.environment
  account_id                 = var.account_id
  region                     = var.region
  partition                  = var.partition
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.data_subnet_ids
  workload_security_group_id = module.cluster.workload_security_group_id
  instance_class             = var.db_instance_class
  multi_az                   = var.db_multi_az
  deletion_protection        = var.db_deletion_protection
  skip_final_snapshot        = false
  backup_retention_days      = var.db_backup_retention_days
  log_kms_key_arn            = module.observability.kms_key_arn
  log_retention_days         = var.log_retention_days
}

module "identity" {
  source = "../identity"

  name                     = local.name
  environment              = local.environment
  account_id               = var.account_id
  region                   = var.region
  partition                = var.partition
  cluster_name             = module.cluster.name
  oidc_provider_arn        = module.cluster.oidc_provider_arn
  oidc_issuer              = module.cluster.oidc_issuer
  db_resource_id           = module.database.resource_id
  app_secret_arn_pattern   = module.database.app_secret_arn_pattern
  secrets_kms_key_arn      = module.database.kms_key_arn
  ecr_repository_name      = module.registry.repository_name
  github_repository        = var.github_repository
  github_oidc_provider_arn = var.github_oidc_provider_arn
  state_bucket_name        = local.state_bucket_name
  state_key                = local.state_key
}

module "audit" {
  source = "../audit"

  name                   = local.name
  account_id             = var.account_id
  region                 = var.region
  partition              = var.partition
  auditor_principal_arns = var.admin_role_arns
  log_kms_key_arn        = module.observability.kms_key_arn
}
