// Package terraform holds the Terratest suite of the Terraform stack (terraform/): real
// `terraform plan` runs of each environment and of the red-team set
// (policies/terraform/redteam) with the real AWS provider, fake credentials and no API call,
// their plan JSON checked by Go assertions and by the Rego policies of policies/terraform
// through OPA's Go packages.
package terraform
