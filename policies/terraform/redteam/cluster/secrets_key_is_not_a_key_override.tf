# Envelope encryption pointed at something that is not a key of this plan (a role's ARN).
# want: cluster.secrets_encryption aws_eks_cluster.this
resource "aws_eks_cluster" "this" {
  encryption_config {
    resources = ["secrets"]
    provider {
      key_arn = "arn:aws:kms:eu-west-1:222222222222:key/00000000-0000-0000-0000-000000000000"
    }
  }
}
