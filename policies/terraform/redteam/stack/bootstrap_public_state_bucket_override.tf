# The state bucket's public access block loosened: a bucket policy could make the state public.
# root: bootstrap
# want: s3.public_access_block aws_s3_bucket_public_access_block.state
resource "aws_s3_bucket_public_access_block" "state" {
  block_public_policy     = false
  restrict_public_buckets = false
}
