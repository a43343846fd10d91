# Production's database made deletable by its variable (the resource argument is untouched).
# root: envs/production
# refused: production requires deletion_protection = true and multi_az = true on the database
module "stack" {
  db_deletion_protection = false
}
