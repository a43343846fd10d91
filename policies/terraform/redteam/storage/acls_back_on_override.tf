# Object ownership back to ObjectWriter: ACLs work again, and one can make an object public.
# want: s3.acls aws_s3_bucket.data
resource "aws_s3_bucket_ownership_controls" "data" {
  rule {
    object_ownership = "ObjectWriter"
  }
}
