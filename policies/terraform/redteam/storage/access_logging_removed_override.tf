# Server access logging removed: who read or changed the objects could no longer be told.
# want: s3.access_logging aws_s3_bucket.data
resource "aws_s3_bucket_logging" "data" {
  count = 0
}
