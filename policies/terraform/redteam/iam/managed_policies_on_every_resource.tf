# Customer-managed policies (not inline ones) granting every action, and object reads and writes,
# on every resource.
# want: iam.every_action aws_iam_policy.everything
# want: iam.privilege_escalation aws_iam_policy.everything
# want: iam.write_everywhere aws_iam_policy.everything
# want: iam.data_read_everywhere aws_iam_policy.objects_anywhere
# want: iam.write_everywhere aws_iam_policy.objects_anywhere
resource "aws_iam_policy" "everything" {
  name   = "everything"
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }] })
}

resource "aws_iam_policy" "objects_anywhere" {
  name   = "objects-anywhere"
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = ["s3:GetObject", "s3:PutObject"], Resource = "*" }] })
}
