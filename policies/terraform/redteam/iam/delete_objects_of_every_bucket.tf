# Deletes on arn:aws:s3:::*/*: every object of every bucket (the state and the audit trail too).
# want: iam.write_everywhere aws_iam_role_policy.every_bucket
resource "aws_iam_role_policy" "every_bucket" {
  name   = "every-bucket"
  role   = aws_iam_role.app.name
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = ["s3:DeleteObject", "s3:DeleteObjectVersion"], Resource = "arn:aws:s3:::*/*" }] })
}
