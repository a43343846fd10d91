# The app's policy document widened to every database user of the account, inside a document
# whose other statements are unknown until apply.
# root: envs/production
# into: modules/identity
# want: iam.write_everywhere module.stack.module.identity.aws_iam_role_policy.app
data "aws_iam_policy_document" "app" {
  statement {
    sid       = "ConnectAsAppUser"
    effect    = "Allow"
    actions   = ["rds-db:connect"]
    resources = ["arn:${var.partition}:rds-db:${var.region}:${var.account_id}:dbuser:*/*"]
  }
}
