# The trail kept but not logging (enable_logging = false): it records nothing.
# want: audit.trail_disabled aws_cloudtrail.this
resource "aws_cloudtrail" "this" {
  enable_logging = false
}
