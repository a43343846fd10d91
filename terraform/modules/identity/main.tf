locals {
  github_host = "token.actions.githubusercontent.com"
  # Built from known values (not from the resource), so trust policies are known at plan time and
  # the Rego policies can read them.
  github_provider_arn = coalesce(var.github_oidc_provider_arn, "arn:${var.partition}:iam::${var.account_id}:oidc-provider/${local.github_host}")
  deploy_environment  = coalesce(var.github_deploy_environment, var.environment)
  ecr_repository_arn  = "arn:${var.partition}:ecr:${var.region}:${var.account_id}:repository/${var.ecr_repository_name}"
  cluster_arn         = "arn:${var.partition}:eks:${var.region}:${var.account_id}:cluster/${var.cluster_name}"
  state_bucket_arn    = "arn:${var.partition}:s3:::${var.state_bucket_name}"

  # GitHub OIDC subjects, each pinned to this repository and to one ref, environment or event.
  github_subjects = {
    push   = ["repo:${var.github_repository}:ref:${var.github_push_ref}"]
    deploy = ["repo:${var.github_repository}:environment:${local.deploy_environment}"]
    plan = [
      "repo:${var.github_repository}:pull_request",
      "repo:${var.github_repository}:ref:refs/heads/main",
    ]
  }

  # The ServiceAccounts with an IRSA role (in app_namespace), by role key.
  irsa_service_accounts = {
    app              = var.app_service_account
    external_secrets = var.external_secrets_service_account
  }
  irsa_descriptions = {
    app              = "template-api pods"
    external_secrets = "External Secrets SecretStore of ${var.app_namespace}"
  }
}

# ---------------------------------------------------------------------------------------------
# Workload identities: IAM roles for Kubernetes ServiceAccounts (IRSA). The pod identity webhook
# of EKS projects a token for ServiceAccounts annotated eks.amazonaws.com/role-arn; the trust
# policy admits exactly one ServiceAccount of one namespace.
#
# One trust builder for every IRSA role. It is an aws_iam_policy_document (computed by Terraform,
# no API call) rather than a jsonencode: the cluster's issuer is unknown until the cluster exists,
# and a data source shows the policy's structure in the plan even then (the effect, the action,
# the condition operators and the exact subject and audience are known; only the issuer is not),
# so the Rego policies can judge it before apply instead of waving an unknown document through.
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "irsa_trust" {
  for_each = local.irsa_service_accounts

  statement {
    sid     = "ServiceAccount${replace(title(replace(each.key, "_", " ")), " ", "")}"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:sub"
      values   = ["system:serviceaccount:${var.app_namespace}:${each.value}"]
    }

    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "irsa" {
  for_each = local.irsa_service_accounts

  name               = "${var.name}-${replace(each.key, "_", "-")}"
  description        = "${local.irsa_descriptions[each.key]} (ServiceAccount ${var.app_namespace}/${each.value})"
  assume_role_policy = data.aws_iam_policy_document.irsa_trust[each.key].json
  tags               = var.tags
}

moved {
  from = aws_iam_role.app
  to   = aws_iam_role.irsa["app"]
}

moved {
  from = aws_iam_role.external_secrets
  to   = aws_iam_role.irsa["external_secrets"]
}

# The permissions of the IRSA roles, from policy documents too: the database's key and the
# rds-db:connect ARN (the instance's resource id) are assigned by AWS when it creates them. Both
# roles read the one app secret, decrypting it only through Secrets Manager for that secret; the
# app also connects to its one database as its one user. (No dynamic blocks: the plan JSON does
# not show their expressions, and the guardrails refuse what they cannot see.)
data "aws_iam_policy_document" "secret_read" {
  statement {
    sid       = "ReadAppDatabaseSecret"
    effect    = "Allow"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [var.app_secret_arn_pattern]
  }

  statement {
    sid       = "DecryptAppDatabaseSecret"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [var.secrets_kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${var.region}.amazonaws.com"]
    }

    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:SecretARN"
      values   = [var.app_secret_arn_pattern]
    }
  }
}

data "aws_iam_policy_document" "app" {
  source_policy_documents = [data.aws_iam_policy_document.secret_read.json]

  statement {
    sid       = "ConnectAsAppUser"
    effect    = "Allow"
    actions   = ["rds-db:connect"]
    resources = ["arn:${var.partition}:rds-db:${var.region}:${var.account_id}:dbuser:${var.db_resource_id}/${var.db_user}"]
  }
}

resource "aws_iam_role_policy" "app" {
  name   = "database-access"
  role   = aws_iam_role.irsa["app"].name
  policy = data.aws_iam_policy_document.app.json

  # Checked again at apply, when the AWS-assigned ids are known: the app connects to one database
  # as one user (rds-db:connect on dbuser:db-<id>/<user>), whatever the plan could not show.
  lifecycle {
    precondition {
      condition = alltrue([for st in jsondecode(data.aws_iam_policy_document.app.json).Statement :
        st.Sid != "ConnectAsAppUser" || can(regex("^arn:aws[a-z-]*:rds-db:[a-z0-9-]+:[0-9]{12}:dbuser:db-[A-Z0-9]+/[a-z_][a-z0-9_]*$", st.Resource))
      ]) && !strcontains(data.aws_iam_policy_document.app.json, "*")
      error_message = "the app connects to its one database as its one user (rds-db:connect on dbuser:db-<id>/<user>, no wildcard)."
    }
  }
}

resource "aws_iam_role_policy" "external_secrets" {
  name   = "read-app-secret"
  role   = aws_iam_role.irsa["external_secrets"].name
  policy = data.aws_iam_policy_document.secret_read.json
}

# ---------------------------------------------------------------------------------------------
# CI identities: GitHub Actions OIDC, no IAM users and no access keys. Each role trusts tokens
# whose audience is sts.amazonaws.com and whose subject is one exact value for this repository.
# ---------------------------------------------------------------------------------------------

resource "aws_iam_openid_connect_provider" "github" {
  count          = var.github_oidc_provider_arn == null ? 1 : 0
  url            = "https://${local.github_host}"
  client_id_list = ["sts.amazonaws.com"]
  tags           = var.tags
}

resource "aws_iam_role" "ci" {
  for_each             = local.github_subjects
  name                 = "${var.name}-ci-${each.key}"
  description          = "GitHub Actions of ${var.github_repository}: ${each.key}"
  max_session_duration = 3600
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = local.github_provider_arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          "${local.github_host}:aud" = "sts.amazonaws.com"
          "${local.github_host}:sub" = each.value
        }
      }
    }]
  })
  tags = var.tags

  depends_on = [aws_iam_openid_connect_provider.github]
}

resource "aws_iam_role_policy" "ci_push" {
  name = "push-one-repository"
  role = aws_iam_role.ci["push"].name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # GetAuthorizationToken has no resource-level permissions; it grants nothing by itself.
        Sid      = "RegistryLogin"
        Effect   = "Allow"
        Action   = "ecr:GetAuthorizationToken"
        Resource = "*"
      },
      {
        Sid    = "PushToTheRepository"
        Effect = "Allow"
        Action = [
          "ecr:BatchCheckLayerAvailability",
          "ecr:BatchGetImage",
          "ecr:CompleteLayerUpload",
          "ecr:DescribeImages",
          "ecr:GetDownloadUrlForLayer",
          "ecr:InitiateLayerUpload",
          "ecr:PutImage",
          "ecr:UploadLayerPart",
        ]
        Resource = local.ecr_repository_arn
      },
    ]
  })
}

resource "aws_iam_role_policy" "ci_deploy" {
  name = "deploy-to-cluster"
  role = aws_iam_role.ci["deploy"].name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "FindTheCluster"
        Effect   = "Allow"
        Action   = "eks:DescribeCluster"
        Resource = local.cluster_arn
      },
      {
        # cosign verify reads the signature manifests from the registry before anything is applied.
        Sid      = "RegistryLogin"
        Effect   = "Allow"
        Action   = "ecr:GetAuthorizationToken"
        Resource = "*"
      },
      {
        Sid      = "ResolveAndVerifyImages"
        Effect   = "Allow"
        Action   = ["ecr:DescribeImages", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
        Resource = local.ecr_repository_arn
      },
    ]
  })
}

# Inside the cluster the deploy role is only a member of one group, bound by the namespaced
# ci-deployer Role of k8s/base: no access policy, no cluster-wide rights.
resource "aws_eks_access_entry" "ci_deploy" {
  cluster_name      = var.cluster_name
  principal_arn     = aws_iam_role.ci["deploy"].arn
  type              = "STANDARD"
  user_name         = "github-actions:ci-deployer"
  kubernetes_groups = [var.deployer_kubernetes_group]
  tags              = var.tags
}

resource "aws_iam_role_policy_attachment" "ci_plan_read_only" {
  role       = aws_iam_role.ci["plan"].name
  policy_arn = "arn:${var.partition}:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_role_policy" "ci_plan_state" {
  name = "terraform-state"
  role = aws_iam_role.ci["plan"].name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ListState"
        Effect   = "Allow"
        Action   = "s3:ListBucket"
        Resource = local.state_bucket_arn
      },
      {
        Sid      = "ReadState"
        Effect   = "Allow"
        Action   = "s3:GetObject"
        Resource = "${local.state_bucket_arn}/${var.state_key}"
      },
      {
        # The state is encrypted with the bootstrap's key (S3 bucket key: the encryption context
        # is the bucket ARN). Decrypt only through S3 in this region, for the state bucket.
        Sid      = "DecryptState"
        Effect   = "Allow"
        Action   = "kms:Decrypt"
        Resource = "arn:${var.partition}:kms:${var.region}:${var.account_id}:key/*"
        Condition = {
          StringEquals = {
            "kms:ViaService"                   = "s3.${var.region}.amazonaws.com"
            "kms:EncryptionContext:aws:s3:arn" = local.state_bucket_arn
          }
        }
      },
    ]
  })
}
