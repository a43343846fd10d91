# The bucket's public access block removed (count = 0).
# want: s3.public_access_block aws_s3_bucket.data
resource "aws_s3_bucket_public_access_block" "data" {
  count = 0
}
