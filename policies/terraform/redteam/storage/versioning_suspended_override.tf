# Versioning suspended: an overwrite or a delete loses the data for good.
# want: s3.versioning aws_s3_bucket.data
# want: s3.versioning aws_s3_bucket_versioning.data
resource "aws_s3_bucket_versioning" "data" {
  versioning_configuration {
    status = "Suspended"
  }
}
