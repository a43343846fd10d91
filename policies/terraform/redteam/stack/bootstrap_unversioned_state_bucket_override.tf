# The state bucket's versioning suspended: one bad write and the state is gone.
# root: bootstrap
# want: s3.versioning aws_s3_bucket.state
# want: s3.versioning aws_s3_bucket_versioning.state
resource "aws_s3_bucket_versioning" "state" {
  versioning_configuration {
    status = "Suspended"
  }
}
