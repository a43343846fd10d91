# Mutable tags: a pushed v1.2.3 can later point at another image.
# want: registry.mutable_tags aws_ecr_repository.this
resource "aws_ecr_repository" "this" {
  image_tag_mutability = "MUTABLE"
}
