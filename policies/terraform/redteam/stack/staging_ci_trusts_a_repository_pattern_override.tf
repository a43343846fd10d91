# Staging's CI roles made to trust every repository of the organisation (a pattern, not a name).
# root: envs/staging
# refused: github_repository must be exactly owner/name
module "stack" {
  github_repository = "platform-template/*"
}
