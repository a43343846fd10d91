# The same, hidden on a resource of a judged type: the queue's creation runs the command.
# want: plan.provisioner aws_sqs_queue.this
resource "aws_sqs_queue" "this" {
  provisioner "local-exec" {
    command = "aws iam attach-role-policy --role-name ci --policy-arn arn:aws:iam::aws:policy/AdministratorAccess"
  }
}
