# Log file validation off: edited or deleted log files could no longer be detected.
# want: audit.trail_validation aws_cloudtrail.this
resource "aws_cloudtrail" "this" {
  enable_log_file_validation = false
}
