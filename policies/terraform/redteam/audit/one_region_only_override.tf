# A trail of its home region only: an intruder works in another region.
# want: audit.trail_scope aws_cloudtrail.this
resource "aws_cloudtrail" "this" {
  is_multi_region_trail = false
}
