# A function made invocable by any AWS account (a resource policy the guardrails have no rule for).
# want: plan.unjudged_type aws_lambda_permission.invoke
resource "aws_lambda_permission" "invoke" {
  statement_id  = "everyone"
  action        = "lambda:InvokeFunction"
  function_name = "redteam-handler"
  principal     = "*"
}
