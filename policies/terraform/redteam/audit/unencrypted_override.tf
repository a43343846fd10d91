# The trail's log files left to S3's default encryption, not the trail's key.
# want: audit.trail_encryption aws_cloudtrail.this
resource "aws_cloudtrail" "this" {
  kms_key_id = null
}
