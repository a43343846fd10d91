# Production's push role made assumable by pull requests (the subjects are a local value).
# root: envs/production
# into: modules/identity
# want: iam.pull_request_role_can_write module.stack.module.identity.aws_iam_role.ci["push"]
locals {
  github_subjects = {
    push   = ["repo:${var.github_repository}:pull_request"]
    deploy = ["repo:${var.github_repository}:environment:${local.deploy_environment}"]
    plan   = ["repo:${var.github_repository}:pull_request", "repo:${var.github_repository}:ref:refs/heads/main"]
  }
}
