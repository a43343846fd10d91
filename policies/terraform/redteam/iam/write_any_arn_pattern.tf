# Writes on "arn:aws:*:*:*:*": every resource of every service, spelt as an ARN.
# want: iam.write_everywhere aws_iam_role_policy.any_arn
resource "aws_iam_role_policy" "any_arn" {
  name   = "any-arn"
  role   = aws_iam_role.app.name
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:PutObject", Resource = "arn:aws:*:*:*:*" }] })
}
