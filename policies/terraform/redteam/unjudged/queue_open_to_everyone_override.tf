# The queue's policy opened to everyone: anyone can read or inject the events.
# want: resource_policy.public aws_sqs_queue.this
resource "aws_sqs_queue" "this" {
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = "*", Action = ["sqs:SendMessage", "sqs:ReceiveMessage"], Resource = "*" }]
  })
}
