# terraform test: the cluster module's secure defaults, and each guardrail refusing its bad input.
mock_provider "aws" {
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111111111111:role/mock" }
  }
  mock_resource "aws_eks_cluster" {
    defaults = {
      arn      = "arn:aws:eks:eu-west-1:111111111111:cluster/template-api-test"
      identity = [{ oidc = [{ issuer = "https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF" }] }]
    }
  }
  mock_resource "aws_launch_template" {
    defaults = { id = "lt-0123456789abcdef0" }
  }
  mock_resource "aws_iam_openid_connect_provider" {
    defaults = { arn = "arn:aws:iam::111111111111:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF" }
  }
}

variables {
  name           = "template-api-test"
  environment    = "production"
  account_id     = "111111111111"
  subnet_ids     = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  log_group_name = "/aws/eks/template-api-test/cluster"
}

run "secure_defaults" {
  command = apply

  assert {
    condition     = aws_eks_cluster.this.vpc_config[0].endpoint_private_access && !aws_eks_cluster.this.vpc_config[0].endpoint_public_access
    error_message = "the API endpoint is private by default"
  }
  assert {
    condition     = aws_eks_cluster.this.encryption_config[0].resources == toset(["secrets"]) && aws_eks_cluster.this.encryption_config[0].provider[0].key_arn == module.secrets_key.arn && module.secrets_key.rotation_enabled
    error_message = "Secrets are envelope-encrypted with a rotating KMS key"
  }
  assert {
    condition     = toset(aws_eks_cluster.this.enabled_cluster_log_types) == toset(["api", "audit", "authenticator", "controllerManager", "scheduler"])
    error_message = "every control-plane log, audit included"
  }
  assert {
    condition     = aws_eks_cluster.this.access_config[0].authentication_mode == "API" && !aws_eks_cluster.this.access_config[0].bootstrap_cluster_creator_admin_permissions
    error_message = "access entries only (no aws-auth ConfigMap), no implicit admin for the creator"
  }
  assert {
    condition     = aws_launch_template.node.metadata_options[0].http_tokens == "required" && aws_launch_template.node.metadata_options[0].http_put_response_hop_limit == 1
    error_message = "nodes require IMDSv2 with a hop limit of 1"
  }
  assert {
    condition     = aws_launch_template.node.block_device_mappings[0].ebs[0].encrypted == "true"
    error_message = "node volumes are encrypted"
  }
  assert {
    condition     = aws_eks_node_group.default.subnet_ids == toset(var.subnet_ids) && aws_eks_node_group.default.launch_template[0].id == aws_launch_template.node.id
    error_message = "the node group runs in the private subnets with the hardened launch template"
  }
  assert {
    condition     = aws_iam_openid_connect_provider.irsa.url == "https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF" && aws_iam_openid_connect_provider.irsa.client_id_list == toset(["sts.amazonaws.com"])
    error_message = "the cluster's OIDC issuer is an IAM identity provider for IRSA"
  }
  assert {
    condition     = output.oidc_issuer == "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
    error_message = "oidc_issuer is the issuer without https://"
  }
}

run "staging_may_open_the_endpoint_to_named_networks" {
  command = plan
  variables {
    environment            = "staging"
    endpoint_public_access = true
    public_access_cidrs    = ["203.0.113.0/24"]
  }
  expect_failures = [check.public_endpoint]

  assert {
    condition     = aws_eks_cluster.this.vpc_config[0].public_access_cidrs == toset(["203.0.113.0/24"])
    error_message = "the public endpoint admits the named networks only"
  }
}

run "production_refuses_a_public_endpoint" {
  command = plan
  variables {
    endpoint_public_access = true
    public_access_cidrs    = ["203.0.113.0/24"]
  }
  # The cluster's postcondition stops the plan; the check block never gets to warn.
  expect_failures = [aws_eks_cluster.this]
}

run "refuses_a_public_endpoint_without_cidrs" {
  command = plan
  variables {
    environment            = "staging"
    endpoint_public_access = true
  }
  expect_failures = [aws_eks_cluster.this]
}

run "refuses_an_endpoint_open_to_the_world" {
  command = plan
  variables {
    environment            = "staging"
    endpoint_public_access = true
    public_access_cidrs    = ["0.0.0.0/0"]
  }
  expect_failures = [var.public_access_cidrs]
}

run "refuses_a_log_group_eks_does_not_write_to" {
  command = plan
  variables {
    log_group_name = "/template-api-test/cluster"
  }
  expect_failures = [aws_eks_cluster.this]
}

run "refuses_an_old_kubernetes" {
  command = plan
  variables {
    kubernetes_version = "1.27"
  }
  expect_failures = [var.kubernetes_version]
}

run "refuses_a_single_node" {
  command = plan
  variables {
    node_min_size = 1
  }
  expect_failures = [var.node_min_size]
}

run "refuses_an_iam_user_as_admin" {
  command = plan
  variables {
    admin_role_arns = ["arn:aws:iam::111111111111:user/alice"]
  }
  expect_failures = [var.admin_role_arns]
}

run "refuses_a_single_subnet" {
  command = plan
  variables {
    subnet_ids = ["subnet-0aaaaaaaaaaaaaaaa"]
  }
  expect_failures = [var.subnet_ids]
}

run "refuses_old_instance_types" {
  command = plan
  variables {
    node_instance_types = ["m4.large"]
  }
  expect_failures = [var.node_instance_types]
}

run "refuses_inconsistent_node_sizes" {
  command = plan
  variables {
    node_min_size     = 3
    node_desired_size = 2
  }
  expect_failures = [aws_eks_node_group.default]
}
