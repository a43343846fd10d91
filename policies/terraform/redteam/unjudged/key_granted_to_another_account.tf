# A KMS grant (not the key policy, which is judged) letting another account decrypt.
# want: plan.unjudged_type aws_kms_grant.share
resource "aws_kms_grant" "share" {
  name              = "share"
  key_id            = aws_kms_key.messages.key_id
  grantee_principal = "arn:aws:iam::222222222222:root"
  operations        = ["Decrypt"]
}
