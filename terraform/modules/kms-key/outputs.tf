output "arn" {
  description = "ARN of the key (give it to kms_key_id, key_arn and the like)."
  value       = aws_kms_key.this.arn
}

output "key_id" {
  description = "Id of the key."
  value       = aws_kms_key.this.key_id
}

output "alias_name" {
  description = "The alias, alias/<alias>."
  value       = aws_kms_alias.this.name
}

output "policy" {
  description = "The key policy (JSON), for tests and reviews."
  value       = aws_kms_key.this.policy
}

output "rotation_enabled" {
  description = "Whether yearly rotation is on (always true; an output so that tests can say so)."
  value       = aws_kms_key.this.enable_key_rotation
}
