# terraform test: least-privilege roles with pinned trust, and the guardrails on their inputs.
# The real provider, offline: fake credentials, no account lookup, and every run a plan, so no
# API call is made. Not a mock: the IAM documents come from the provider's own
# aws_iam_policy_document, exactly as in a real plan.
provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "mock-access-key"
  secret_key                  = "mock-secret-key"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

variables {
  name                   = "template-api-test"
  environment            = "production"
  account_id             = "111111111111"
  region                 = "eu-west-1"
  cluster_name           = "template-api-test"
  oidc_provider_arn      = "arn:aws:iam::111111111111:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
  oidc_issuer            = "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
  db_resource_id         = "db-ABCDEFGHIJKLMNOPQRSTUVWXY"
  app_secret_arn_pattern = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:template-api-test/db-app-??????"
  secrets_kms_key_arn    = "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000"
  state_bucket_name      = "template-api-tfstate-111111111111"
  state_key              = "template-api/production.tfstate"
}

run "least_privilege" {
  command = plan

  # The app: connect as "app" to its one database, read its one secret. Nothing else.
  assert {
    condition = { for s in jsondecode(aws_iam_role_policy.app.policy).Statement : s.Sid => [s.Action, s.Resource] } == {
      ConnectAsAppUser         = ["rds-db:connect", "arn:aws:rds-db:eu-west-1:111111111111:dbuser:db-ABCDEFGHIJKLMNOPQRSTUVWXY/app"]
      ReadAppDatabaseSecret    = [["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], var.app_secret_arn_pattern]
      DecryptAppDatabaseSecret = ["kms:Decrypt", var.secrets_kms_key_arn]
    }
    error_message = "the app role may connect as app and read its one secret, nothing else"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.external_secrets.policy).Statement : s.Sid] == ["ReadAppDatabaseSecret", "DecryptAppDatabaseSecret"] && [for s in jsondecode(aws_iam_role_policy.external_secrets.policy).Statement : s if s.Sid != "ConnectAsAppUser"] == [for s in jsondecode(aws_iam_role_policy.app.policy).Statement : s if s.Sid != "ConnectAsAppUser"]
    error_message = "External Secrets may read the app secret only"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.app.policy).Statement : s.Condition.StringEquals["kms:ViaService"] if s.Sid == "DecryptAppDatabaseSecret"]) == "secretsmanager.eu-west-1.amazonaws.com"
    error_message = "the key may be used only through Secrets Manager"
  }
  # IRSA trust, from the one builder: exactly one ServiceAccount each, audience sts.amazonaws.com.
  assert {
    condition     = jsondecode(aws_iam_role.irsa["app"].assume_role_policy).Statement[0].Condition.StringEquals == { "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF:sub" = "system:serviceaccount:template-api:template-api", "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF:aud" = "sts.amazonaws.com" }
    error_message = "the app role trusts ServiceAccount template-api/template-api only"
  }
  assert {
    condition     = jsondecode(aws_iam_role.irsa["external_secrets"].assume_role_policy).Statement[0].Condition.StringEquals["oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF:sub"] == "system:serviceaccount:template-api:external-secrets"
    error_message = "the External Secrets role trusts its one ServiceAccount only"
  }
  assert {
    condition     = alltrue([for r in aws_iam_role.irsa : length(jsondecode(r.assume_role_policy).Statement) == 1 && jsondecode(r.assume_role_policy).Statement[0].Principal.Federated == var.oidc_provider_arn && jsondecode(r.assume_role_policy).Statement[0].Action == "sts:AssumeRoleWithWebIdentity"])
    error_message = "each IRSA role trusts the cluster's OIDC provider only, through web identity"
  }
  # GitHub OIDC trust: this repository, one subject per role.
  assert {
    condition = { for k, r in aws_iam_role.ci : k => jsondecode(r.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] } == {
      push   = ["repo:platform-template/template-api:ref:refs/heads/main"]
      deploy = ["repo:platform-template/template-api:environment:production"]
      plan   = ["repo:platform-template/template-api:pull_request", "repo:platform-template/template-api:ref:refs/heads/main"]
    }
    error_message = "each CI role trusts exact subjects of this repository"
  }
  assert {
    condition     = alltrue([for r in aws_iam_role.ci : jsondecode(r.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com" && jsondecode(r.assume_role_policy).Statement[0].Principal.Federated == "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"])
    error_message = "CI roles trust the GitHub provider with audience sts.amazonaws.com"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.ci_push.policy).Statement : s.Resource] == ["*", "arn:aws:ecr:eu-west-1:111111111111:repository/template-api"] && jsondecode(aws_iam_role_policy.ci_push.policy).Statement[0].Action == "ecr:GetAuthorizationToken"
    error_message = "the push role may push to the one repository (and log in)"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.ci_deploy.policy).Statement : s.Resource] == ["arn:aws:eks:eu-west-1:111111111111:cluster/template-api-test", "*", "arn:aws:ecr:eu-west-1:111111111111:repository/template-api"] && jsondecode(aws_iam_role_policy.ci_deploy.policy).Statement[1].Action == "ecr:GetAuthorizationToken" && jsondecode(aws_iam_role_policy.ci_deploy.policy).Statement[2].Action == ["ecr:DescribeImages", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    error_message = "the deploy role may describe its cluster and read (not write) images of the one repository, for cosign verify"
  }
  assert {
    condition     = aws_eks_access_entry.ci_deploy.kubernetes_groups == toset(["template-api:ci-deployers"])
    error_message = "the deploy role is only a member of the ci-deployers group in the cluster"
  }
  assert {
    condition     = aws_iam_role_policy_attachment.ci_plan_read_only.policy_arn == "arn:aws:iam::aws:policy/ReadOnlyAccess" && [for s in jsondecode(aws_iam_role_policy.ci_plan_state.policy).Statement : [s.Action, s.Resource]] == [["s3:ListBucket", "arn:aws:s3:::template-api-tfstate-111111111111"], ["s3:GetObject", "arn:aws:s3:::template-api-tfstate-111111111111/template-api/production.tfstate"], ["kms:Decrypt", "arn:aws:kms:eu-west-1:111111111111:key/*"]] && jsondecode(aws_iam_role_policy.ci_plan_state.policy).Statement[2].Condition.StringEquals["kms:EncryptionContext:aws:s3:arn"] == "arn:aws:s3:::template-api-tfstate-111111111111"
    error_message = "the plan role only reads (everything, and its own state)"
  }
  assert {
    condition     = length(aws_iam_openid_connect_provider.github) == 1
    error_message = "the GitHub OIDC provider is created when none is given"
  }
}

run "reuses_an_existing_github_provider" {
  command = plan
  variables {
    github_oidc_provider_arn = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
  }
  assert {
    condition     = length(aws_iam_openid_connect_provider.github) == 0
    error_message = "no second GitHub provider when one exists"
  }
}

run "refuses_a_repository_wildcard" {
  command = plan
  variables {
    github_repository = "platform-template/*"
  }
  expect_failures = [var.github_repository]
}

run "refuses_a_ref_pattern" {
  command = plan
  variables {
    github_push_ref = "refs/heads/*"
  }
  expect_failures = [var.github_push_ref]
}

run "refuses_a_secret_wildcard" {
  command = plan
  variables {
    app_secret_arn_pattern = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:*"
  }
  expect_failures = [var.app_secret_arn_pattern]
}

run "refuses_a_database_user_wildcard" {
  command = plan
  variables {
    db_user = "*"
  }
  expect_failures = [var.db_user]
}

run "refuses_a_system_group_for_the_deployer" {
  command = plan
  variables {
    deployer_kubernetes_group = "system:masters"
  }
  expect_failures = [var.deployer_kubernetes_group]
}

run "refuses_a_namespace_wildcard" {
  command = plan
  variables {
    app_namespace = "*"
  }
  expect_failures = [var.app_namespace]
}

run "refuses_a_service_account_wildcard" {
  command = plan
  variables {
    app_service_account              = "template-*"
    external_secrets_service_account = "*"
  }
  expect_failures = [var.app_service_account, var.external_secrets_service_account]
}

run "refuses_a_deploy_environment_pattern" {
  command = plan
  variables {
    github_deploy_environment = "prod*"
  }
  expect_failures = [var.github_deploy_environment]
}

run "deploy_role_follows_a_named_github_environment" {
  command = plan
  variables {
    github_deploy_environment = "production-eu"
  }
  assert {
    condition     = jsondecode(aws_iam_role.ci["deploy"].assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == ["repo:platform-template/template-api:environment:production-eu"]
    error_message = "the deploy role trusts the named GitHub environment"
  }
}
