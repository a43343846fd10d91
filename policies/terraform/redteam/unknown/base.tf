# Values unknown until apply that the rules can prove safe from the configuration: the secure
# variant of this class.
# admitted: a log group and a secret encrypted with a key this plan creates, a role whose policy document names a queue this plan creates (unknown ARN, known statement)
resource "aws_kms_key" "this" {
  description             = "unknown-at-plan base"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/redteam/unknown"
  retention_in_days = 90
  kms_key_id        = aws_kms_key.this.arn
}

resource "aws_secretsmanager_secret" "this" {
  name       = "redteam/unknown"
  kms_key_id = aws_kms_key.this.arn
}

resource "aws_sqs_queue" "this" {
  name              = "redteam-unknown"
  kms_master_key_id = aws_kms_key.this.arn
}

resource "aws_iam_role" "worker" {
  name = "redteam-worker"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { AWS = "arn:aws:iam::111111111111:role/Admin" }, Action = "sts:AssumeRole" }]
  })
}

data "aws_iam_policy_document" "worker" {
  statement {
    sid       = "SendToTheQueue"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.this.arn]
  }
}

resource "aws_iam_role_policy" "worker" {
  name   = "send"
  role   = aws_iam_role.worker.name
  policy = data.aws_iam_policy_document.worker.json
}
