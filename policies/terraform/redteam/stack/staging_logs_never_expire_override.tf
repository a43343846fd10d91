# Staging's log groups set never to expire (retention 0): logs kept, and paid for, forever.
# root: envs/staging
# refused: retention_days must be a CloudWatch Logs retention value of at least 30
module "stack" {
  log_retention_days = 0
}
