# An IRSA trust for every ServiceAccount of the cluster (StringLike system:serviceaccount:*), its
# issuer unknown until apply: judged all the same.
# want: iam.trust_federated_subject aws_iam_role.any_pod
data "aws_iam_policy_document" "any_pod" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.irsa.arn]
    }
    condition {
      test     = "StringLike"
      variable = "${replace(aws_eks_cluster.this.identity[0].oidc[0].issuer, "https://", "")}:sub"
      values   = ["system:serviceaccount:*"]
    }
    condition {
      test     = "StringEquals"
      variable = "${replace(aws_eks_cluster.this.identity[0].oidc[0].issuer, "https://", "")}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "any_pod" {
  name               = "redteam-any-pod"
  assume_role_policy = data.aws_iam_policy_document.any_pod.json
}
