# A machine image shared with every AWS account.
# want: plan.unjudged_type aws_ami_launch_permission.public
resource "aws_ami_launch_permission" "public" {
  image_id = "ami-0123456789abcdef0"
  group    = "all"
}
