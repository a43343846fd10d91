# An EKS cluster the way modules/cluster builds it, and the CI deploy role's way in: the secure
# variant of this class.
# admitted: a private endpoint, Secrets encrypted with a key of this plan, the audit log, access entries only, nodes requiring IMDSv2 with a hop limit of 1, the deploy role only a member of a namespaced group
resource "aws_kms_key" "secrets" {
  description             = "EKS secrets"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_eks_cluster" "this" {
  name     = "redteam"
  role_arn = "arn:aws:iam::111111111111:role/redteam-cluster"
  vpc_config {
    subnet_ids              = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
    endpoint_private_access = true
    endpoint_public_access  = false
  }
  encryption_config {
    resources = ["secrets"]
    provider {
      key_arn = aws_kms_key.secrets.arn
    }
  }
  enabled_cluster_log_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
  access_config {
    authentication_mode                         = "API"
    bootstrap_cluster_creator_admin_permissions = false
  }
}

resource "aws_launch_template" "node" {
  name_prefix = "redteam-node-"
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }
}

resource "aws_eks_node_group" "default" {
  cluster_name    = aws_eks_cluster.this.name
  node_group_name = "default"
  node_role_arn   = "arn:aws:iam::111111111111:role/redteam-node"
  subnet_ids      = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  scaling_config {
    min_size     = 2
    max_size     = 4
    desired_size = 2
  }
  launch_template {
    id      = aws_launch_template.node.id
    version = aws_launch_template.node.latest_version
  }
}

resource "aws_iam_role" "deploy" {
  name = "redteam-ci-deploy"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com" }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = { StringEquals = {
        "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com"
        "token.actions.githubusercontent.com:sub" = "repo:platform-template/template-api:environment:production"
      } }
    }]
  })
}

resource "aws_eks_access_entry" "deploy" {
  cluster_name      = aws_eks_cluster.this.name
  principal_arn     = aws_iam_role.deploy.arn
  kubernetes_groups = ["template-api:ci-deployers"]
}

resource "aws_eks_access_entry" "admin" {
  cluster_name  = aws_eks_cluster.this.name
  principal_arn = "arn:aws:iam::111111111111:role/Admin"
}

resource "aws_eks_access_policy_association" "admin" {
  cluster_name  = aws_eks_cluster.this.name
  principal_arn = aws_eks_access_entry.admin.principal_arn
  policy_arn    = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
  access_scope {
    type = "cluster"
  }
}
