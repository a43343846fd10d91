# The plan role, which pull requests assume, given the right to push images.
# want: iam.pull_request_role_can_write aws_iam_role.plan
resource "aws_iam_role_policy" "plan_push" {
  name = "push"
  role = aws_iam_role.plan.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"], Resource = "arn:aws:ecr:eu-west-1:111111111111:repository/template-api" }]
  })
}
