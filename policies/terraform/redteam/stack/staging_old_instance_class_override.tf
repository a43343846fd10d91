# Staging's database on a previous-generation instance class (no Nitro, no current patches).
# root: envs/staging
# refused: instance_class must be a current generation class
module "stack" {
  db_instance_class = "db.t2.micro"
}
