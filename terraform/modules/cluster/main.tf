locals {
  managed_policy = "arn:${var.partition}:iam::aws:policy"
  # Every control-plane log type, the audit log included.
  log_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
}

# Envelope encryption of Kubernetes Secrets.
module "secrets_key" {
  source = "../kms-key"

  alias       = "${var.name}-eks-secrets"
  description = "${var.name} EKS secrets envelope encryption"
  account_id  = var.account_id
  partition   = var.partition
  tags        = var.tags
}

moved {
  from = aws_kms_key.secrets
  to   = module.secrets_key.aws_kms_key.this
}

moved {
  from = aws_kms_alias.secrets
  to   = module.secrets_key.aws_kms_alias.this
}

resource "aws_iam_role" "cluster" {
  name = "${var.name}-eks-cluster"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "eks.amazonaws.com" }
      Action    = ["sts:AssumeRole", "sts:TagSession"]
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "cluster" {
  role       = aws_iam_role.cluster.name
  policy_arn = "${local.managed_policy}/AmazonEKSClusterPolicy"
}

resource "aws_eks_cluster" "this" {
  name     = var.name
  version  = var.kubernetes_version
  role_arn = aws_iam_role.cluster.arn

  vpc_config {
    subnet_ids              = var.subnet_ids
    endpoint_private_access = true
    endpoint_public_access  = var.endpoint_public_access
    public_access_cidrs     = var.endpoint_public_access ? var.public_access_cidrs : null
  }

  encryption_config {
    resources = ["secrets"]
    provider {
      key_arn = module.secrets_key.arn
    }
  }

  enabled_cluster_log_types = local.log_types

  # Access entries (EKS API) only: no aws-auth ConfigMap, and the creator gets no implicit admin.
  access_config {
    authentication_mode                         = "API"
    bootstrap_cluster_creator_admin_permissions = false
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy_attachment.cluster]

  # Postconditions judge the cluster as planned (not the variables): an override of the
  # arguments themselves is caught too.
  lifecycle {
    postcondition {
      condition     = var.environment != "production" || !self.vpc_config[0].endpoint_public_access
      error_message = "production keeps the Kubernetes API endpoint private (endpoint_public_access = false)."
    }
    postcondition {
      condition     = contains(self.encryption_config[0].resources, "secrets") && contains(self.enabled_cluster_log_types, "audit") && self.access_config[0].authentication_mode == "API" && !self.access_config[0].bootstrap_cluster_creator_admin_permissions
      error_message = "the cluster envelope-encrypts Secrets, sends its audit log, and is reached through access entries only, without an implicit admin."
    }
    precondition {
      condition     = !var.endpoint_public_access || length(var.public_access_cidrs) > 0
      error_message = "A public API endpoint needs public_access_cidrs: EKS would otherwise open it to 0.0.0.0/0."
    }
    precondition {
      condition     = var.log_group_name == "/aws/eks/${var.name}/cluster"
      error_message = "log_group_name must be /aws/eks/<cluster name>/cluster, the group EKS writes to; otherwise EKS creates an unencrypted one."
    }
  }
}

# IAM roles for service accounts (IRSA): the cluster's OIDC issuer as an IAM identity provider.
resource "aws_iam_openid_connect_provider" "irsa" {
  url            = aws_eks_cluster.this.identity[0].oidc[0].issuer
  client_id_list = ["sts.amazonaws.com"]
  tags           = var.tags
}

resource "aws_iam_role" "node" {
  name = "${var.name}-eks-node"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "node" {
  for_each   = toset(["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly", "AmazonEKS_CNI_Policy"])
  role       = aws_iam_role.node.name
  policy_arn = "${local.managed_policy}/${each.value}"
}

# Nodes require IMDSv2 with a hop limit of 1: pods cannot reach the node's instance metadata
# (and its role); they use their own IRSA roles.
resource "aws_launch_template" "node" {
  name_prefix            = "${var.name}-node-"
  update_default_version = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = var.node_disk_size_gb
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = "${var.name}-node" })
  }

  tags = var.tags

  lifecycle {
    postcondition {
      condition     = self.metadata_options[0].http_tokens == "required" && self.metadata_options[0].http_put_response_hop_limit == 1
      error_message = "nodes require IMDSv2 with a hop limit of 1 (pods must not reach the node role)."
    }
  }
}

resource "aws_eks_node_group" "default" {
  cluster_name    = aws_eks_cluster.this.name
  node_group_name = "default"
  node_role_arn   = aws_iam_role.node.arn
  subnet_ids      = var.subnet_ids
  ami_type        = "AL2023_x86_64_STANDARD"
  capacity_type   = "ON_DEMAND"
  instance_types  = var.node_instance_types

  scaling_config {
    min_size     = var.node_min_size
    max_size     = var.node_max_size
    desired_size = var.node_desired_size
  }

  update_config {
    max_unavailable = 1
  }

  launch_template {
    id      = aws_launch_template.node.id
    version = aws_launch_template.node.latest_version
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy_attachment.node]

  lifecycle {
    ignore_changes = [scaling_config[0].desired_size]
    precondition {
      condition     = var.node_min_size <= var.node_desired_size && var.node_desired_size <= var.node_max_size
      error_message = "node sizes must satisfy node_min_size <= node_desired_size <= node_max_size."
    }
  }
}

resource "aws_eks_access_entry" "admin" {
  for_each      = toset(var.admin_role_arns)
  cluster_name  = aws_eks_cluster.this.name
  principal_arn = each.value
  type          = "STANDARD"
  tags          = var.tags
}

resource "aws_eks_access_policy_association" "admin" {
  for_each      = toset(var.admin_role_arns)
  cluster_name  = aws_eks_cluster.this.name
  principal_arn = aws_eks_access_entry.admin[each.value].principal_arn
  policy_arn    = "arn:${var.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"

  access_scope {
    type = "cluster"
  }
}

check "public_endpoint" {
  assert {
    condition     = !aws_eks_cluster.this.vpc_config[0].endpoint_public_access
    error_message = "The Kubernetes API endpoint of ${var.name} is reachable from the internet (from ${join(", ", var.public_access_cidrs)})."
  }
}
