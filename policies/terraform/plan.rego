# Guardrails on Terraform plans (the JSON of `terraform show -json <planfile>`), OPA v1 syntax.
#
# Query data.terraform.guardrails.deny: a set of messages, each starting with the address of the
# resource it is about. An empty set admits the plan.
#
# Values that are unknown until apply (after_unknown) are never guessed: a rule fires only on what
# the plan shows. The Terratest suite checks which IAM documents of the environments are unknown
# at plan time, so that nothing escapes these rules unnoticed.
package terraform.guardrails

# Resources the plan creates or updates: what will exist after apply.
planned contains rc if {
	some rc in input.resource_changes
	rc.mode == "managed"
	some action in rc.change.actions
	action in {"create", "update"}
}

unknown(rc, attr) if rc.change.after_unknown[attr] == true

# A resource address without instance keys: module.x["a"].aws_vpc.this[0] -> module.x.aws_vpc.this
base_address(addr) := regex.replace(addr, `\[[^\]]*\]`, "")

as_array(x) := x if is_array(x)

as_array(x) := [x] if not is_array(x)
