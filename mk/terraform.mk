# Terraform (terraform/): the AWS stack and its guardrails, proven without an AWS account.
#
#   make test-terraform   fmt -check, the module READMEs' tables current, validate of every module,
#                         env and the bootstrap, `terraform test` of every module and of the
#                         bootstrap (mock provider), then the Terratest suite in
#                         test/e2e/terraform: the Rego unit tests, real plans of both envs and of the
#                         red-team set (policies/terraform/redteam), each
#                         judged by the Rego policies of policies/terraform (OPA's Go packages)
#   make lint-terraform   terraform fmt -check; the READMEs' inputs/outputs tables current
#                         (terraform-docs); gofmt and go vet of test/e2e/terraform
#   make terraform-docs   rewrite the inputs/outputs tables of every module README
#   make tf-policy PLAN=plan.json ENVIRONMENT=staging [ACCOUNT_ID=123456789012]
#                         judge a real plan (terraform show -json tfplan > plan.json) with the same
#                         policies, as CI does before every apply; exit 1 and one line per
#                         violation when it is refused
#   make terratest-aws    opt-in, needs an AWS account: apply the registry module for real, check
#                         it, destroy it (TERRATEST_AWS_ACCOUNT_ID, AWS_REGION, credentials)
#
# Offline: when the provider mirror /opt/tf-plugins exists, Terraform uses terraform/offline.tfrc
# (a filesystem_mirror; init then symlinks the provider, nothing is copied). Otherwise the
# registry is used, with a shared plugin cache under .run so the provider downloads once.

TF           ?= terraform
TF_DIR       := $(ROOT)/terraform
TF_MODULES   := $(sort $(wildcard $(TF_DIR)/modules/*))
TF_ENVS      := $(TF_DIR)/envs/staging $(TF_DIR)/envs/production
TF_ROOTS     := $(TF_MODULES) $(TF_ENVS) $(TF_DIR)/bootstrap
# Roots with a tests/ folder of `terraform test` files.
TF_TESTED    := $(patsubst %/tests,%,$(sort $(wildcard $(TF_DIR)/modules/*/tests))) $(TF_DIR)/bootstrap
TF_REDTEAM   := $(ROOT)/policies/terraform/redteam
TF_MIRROR    := /opt/tf-plugins
TERRATEST_TIMEOUT ?= 90m

ifneq ($(wildcard $(TF_MIRROR)/registry.terraform.io),)
TF_ENV := TF_CLI_CONFIG_FILE=$(TF_DIR)/offline.tfrc
else
TF_ENV := TF_PLUGIN_CACHE_DIR=$(RUN_DIR)/terraform-plugin-cache
endif
TF_RUN := env $(TF_ENV) TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1 $(TF)

TEST_TARGETS += test-terraform
LINT_TARGETS += lint-terraform
CI_DEPS      += terraform-deps
CLEAN_DIRS   += $(wildcard $(TF_DIR)/*/.terraform $(TF_DIR)/*/*/.terraform)

.PHONY: test-terraform lint-terraform terraform-deps terraform-fmt terraform-docs terraform-docs-check terraform-go-lint terraform-init terraform-validate terraform-test terratest terratest-aws tf-policy

# Terraform itself is not built here (HashiCorp ships binaries; Debian has none): CI installs it
# with hashicorp/setup-terraform, these machines have it on PATH. Say so clearly when it is missing.
terraform-deps:
	@command -v $(TF) >/dev/null || { echo "terraform >= 1.11 is required on PATH (https://developer.hashicorp.com/terraform/install)"; exit 1; }
	@v=$$($(TF_RUN) version -json | sed -n 's/.*"terraform_version": *"\([0-9.]*\)".*/\1/p'); \
	case "$$v" in 1.1[1-9].*|1.[2-9][0-9].*|[2-9].*) ;; *) echo "terraform $$v is too old: 1.11 or later is required"; exit 1;; esac; \
	if [ -d $(TF_MIRROR)/registry.terraform.io ]; then src="the offline mirror $(TF_MIRROR)"; else src="registry.terraform.io (plugin cache in .run)"; fi; \
	echo "terraform $$v; the AWS provider comes from $$src"

test-terraform: ## Terraform: fmt, docs, validate, terraform test, Terratest plans + Rego policies + red team
	@$(MAKE) terraform-fmt && $(MAKE) terraform-docs-check && $(MAKE) terraform-validate && $(MAKE) terraform-test && $(MAKE) terratest
	@echo "test-terraform: passed"

lint-terraform: terraform-fmt terraform-docs-check terraform-go-lint ## terraform fmt, module READMEs current, gofmt/vet of test/e2e/terraform

terraform-fmt:
	@start=$$(date +%s); \
	$(TF_RUN) fmt -check -recursive -diff $(TF_DIR) $(TF_REDTEAM); \
	echo "terraform fmt: clean ($$(( $$(date +%s) - start ))s)"

terraform-docs: $(TERRAFORM_DOCS) ## Rewrite the inputs/outputs tables of every Terraform module README
	@for d in $(TF_MODULES); do $(TERRAFORM_DOCS) -c $(TF_DIR)/.terraform-docs.yml $$d > /dev/null || exit 1; done
	@echo "terraform-docs: $(words $(TF_MODULES)) module READMEs written"

terraform-docs-check: $(TERRAFORM_DOCS)
	@for d in $(TF_MODULES); do \
		$(TERRAFORM_DOCS) -c $(TF_DIR)/.terraform-docs.yml --output-check $$d > /dev/null 2>&1 || { \
			echo "$${d#$(ROOT)/}/README.md: the inputs/outputs table is out of date: run make terraform-docs"; exit 1; }; \
	done
	@echo "terraform-docs: the $(words $(TF_MODULES)) module READMEs are current"

terraform-go-lint:
	$(call go_fmt_vet,$(ROOT)/test/e2e,terraform,./terraform/...)
	@echo "test/e2e/terraform: gofmt and go vet clean"

# init without a backend (validate and test need none); the provider comes from the mirror.
# A root module is initialised again only when one of its .tf files or its lock file is newer
# than its last init. Where a lock file exists (committed in bootstrap and envs/*), init only
# checks the provider against it (-lockfile=readonly): a lock that does not match fails here.
terraform-init:
	@mkdir -p $(RUN_DIR)/terraform-plugin-cache
	@start=$$(date +%s); n=0; \
	for d in $(TF_ROOTS); do \
		stamp=$$d/.terraform/init.stamp; \
		if [ -f $$stamp ] && [ -z "$$(find $$d -maxdepth 1 \( -name '*.tf' -o -name .terraform.lock.hcl \) -newer $$stamp)" ]; then continue; fi; \
		lock=; if [ -f $$d/.terraform.lock.hcl ]; then lock=-lockfile=readonly; fi; \
		$(TF_RUN) -chdir=$$d init -backend=false -input=false -no-color $$lock > $(RUN_DIR)/terraform-init.log 2>&1 \
			|| { cat $(RUN_DIR)/terraform-init.log; echo "terraform init failed in $${d#$(ROOT)/}"; exit 1; }; \
		touch $$stamp; n=$$((n + 1)); \
	done; \
	echo "terraform init: $$n of $(words $(TF_ROOTS)) root modules initialised ($$(( $$(date +%s) - start ))s)"

terraform-validate: terraform-init
	@start=$$(date +%s); \
	for d in $(TF_ROOTS); do \
		echo "terraform validate $${d#$(ROOT)/}"; \
		$(TF_RUN) -chdir=$$d validate -no-color; \
	done; \
	echo "terraform validate: $(words $(TF_ROOTS)) root modules valid ($$(( $$(date +%s) - start ))s)"

terraform-test: terraform-init
	@start=$$(date +%s); \
	for d in $(TF_TESTED); do \
		echo "terraform test $${d#$(ROOT)/}"; \
		$(TF_RUN) -chdir=$$d test -no-color > $(RUN_DIR)/terraform-test.log 2>&1 \
			|| { cat $(RUN_DIR)/terraform-test.log; exit 1; }; \
		grep -E '^(Success|Failure)!' $(RUN_DIR)/terraform-test.log; \
	done; \
	echo "terraform test: $(words $(TF_TESTED)) roots passed ($$(( $$(date +%s) - start ))s)"

terratest:
	@echo "terratest: Rego unit tests, then about 100 real plans (both envs and the red team of policies/terraform/redteam), 8-10 s of CPU each: about 9 min on 2 idle cores"
	@mkdir -p $(RUN_DIR)/terraform-plugin-cache
	@start=$$(date +%s); \
	cd $(ROOT)/test/e2e && env $(TF_ENV) $(GO) test -count=1 -timeout $(TERRATEST_TIMEOUT) ./terraform/...; \
	echo "terratest: passed ($$(( $$(date +%s) - start ))s)"

terratest-aws: ## Opt-in: apply the registry module in a real AWS account, check it, destroy it
	@mkdir -p $(RUN_DIR)/terraform-plugin-cache
	cd $(ROOT)/test/e2e && env $(TF_ENV) TERRATEST_AWS_APPLY=1 $(GO) test -count=1 -timeout 30m -run 'TestApplyRegistryInAWS' -v ./terraform/...

# The CI gate: the same policies on a real plan, before apply. ENVIRONMENT picks the rules
# (production's when empty); ACCOUNT_ID defaults to the plan's account_id variable.
tf-policy: ## Judge a plan: make tf-policy PLAN=plan.json ENVIRONMENT=staging [ACCOUNT_ID=...]
	@[ -n "$(PLAN)" ] || { echo "usage: make tf-policy PLAN=<terraform show -json output> ENVIRONMENT=staging|production [ACCOUNT_ID=...]"; exit 2; }
	@cd $(ROOT)/test/e2e && $(GO) run ./terraform/cmd/tfpolicy -policies $(ROOT)/policies/terraform -plan $(abspath $(PLAN)) \
		-environment '$(ENVIRONMENT)' $(if $(ACCOUNT_ID),-account-id '$(ACCOUNT_ID)')
