# An event selector without management events: the trail records nothing that matters here.
# want: audit.trail_scope aws_cloudtrail.this
resource "aws_cloudtrail" "this" {
  event_selector {
    read_write_type           = "All"
    include_management_events = false
  }
}
