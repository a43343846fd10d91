# An IAM user with a long-lived access key for CI, where CI should assume a role through OIDC.
# want: iam.user_or_key aws_iam_user.ci
# want: iam.user_or_key aws_iam_access_key.ci
resource "aws_iam_user" "ci" {
  name = "ci-bot"
}

resource "aws_iam_access_key" "ci" {
  user = aws_iam_user.ci.name
}
