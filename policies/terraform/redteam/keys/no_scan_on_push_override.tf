# Pushed images no longer scanned.
# want: registry.scan_on_push aws_ecr_repository.this
resource "aws_ecr_repository" "this" {
  image_scanning_configuration {
    scan_on_push = false
  }
}
