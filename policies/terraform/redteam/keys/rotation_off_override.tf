# Key rotation turned off.
# want: kms.rotation aws_kms_key.ecr
resource "aws_kms_key" "ecr" {
  enable_key_rotation = false
}
