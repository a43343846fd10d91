# A Cognito identity pool trusted with no audience and no subject: any pool's identities get in.
# want: iam.trust_federated_audience aws_iam_role.cognito
# want: iam.trust_federated_subject aws_iam_role.cognito
resource "aws_iam_role" "cognito" {
  name = "redteam-cognito"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Federated = "cognito-identity.amazonaws.com" }, Action = "sts:AssumeRoleWithWebIdentity" }]
  })
}
