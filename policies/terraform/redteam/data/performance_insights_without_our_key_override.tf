# Performance Insights left on the default key: its samples hold the SQL text of every query.
# want: database.performance_insights_key aws_db_instance.this
resource "aws_db_instance" "this" {
  performance_insights_kms_key_id = null
}
