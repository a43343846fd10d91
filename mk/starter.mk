# The template as a starter and a workshop: rename, the lab tests, offline preparation.
#
#   make rename MODULE=github.com/acme/payments NAME=payments [REPO=acme/payments]
#                         rewrite the module path and imports, the app/image/namespace name, the
#                         GitHub repository (signature subject, OIDC trust, workflows), then gofmt;
#                         arguments checked before anything changes; running it twice is harmless
#   make test-rename      the rename's unit tests, then a copy of the repository renamed in a temp
#                         folder and checked there: go build/vet/test of the service, the test
#                         modules compile, manifests render (test/manifests), kyverno test on the
#                         renamed policies, terraform validate of the envs, no old name left
#   make test-workshop    every workshop lab's "break" (docs/workshop/labs/NN) applied to a scratch
#                         copy and refused with the message the lab promises
#   make prefetch         download every Go module and build every tool the tests and the demo
#                         need, so that `make test` and `make demo` then run with no network

RENAME_DIR   := $(ROOT)/tools/rename
WORKSHOP_DIR := $(ROOT)/test/workshop

TEST_TARGETS += test-rename test-workshop
LINT_TARGETS += lint-starter

.PHONY: rename test-rename test-workshop lint-starter prefetch

rename: ## Rename the template: make rename MODULE=github.com/acme/payments NAME=payments [REPO=owner/name]
	@mkdir -p $(RUN_DIR) && cd $(RENAME_DIR) && $(GO) build -o $(RUN_DIR)/rename .
	@$(RUN_DIR)/rename -root $(ROOT) -module '$(MODULE)' -name '$(NAME)' $(if $(REPO),-repo '$(REPO)') $(if $(DRY_RUN),-dry-run)

test-rename: $(KYVERNO) ## Rename a copy of the repository and run the fast checks there (about 1 min warm)
	$(call go_fmt_vet,$(RENAME_DIR))
	@echo "test-rename: unit tests, then a copy of the repository renamed to github.com/acme/payments and checked"
	@start=$$(date +%s); \
	cd $(RENAME_DIR) && env $(TF_ENV) KYVERNO_BIN=$(KYVERNO) $(GO) test -count=1 -timeout 20m $(if $(V),-v) ./...; \
	echo "test-rename: passed ($$(( $$(date +%s) - start ))s)"

# Labs 01 and 03 run `make test-e2e` (their state in a temporary folder), so the e2e tools are
# prerequisites; the others need the Kyverno CLI, gitleaks and terraform.
test-workshop: $(KYVERNO) $(GITLEAKS) $(E2E_CONTROL_PLANE) $(E2E_KYVERNO) ## Apply every workshop lab's break to a scratch clone and assert its refusal
	$(call go_fmt_vet,$(WORKSHOP_DIR))
	@echo "test-workshop: each lab of docs/workshop applied to a scratch clone, refusal asserted (about 2 min warm)"
	@start=$$(date +%s); \
	cd $(WORKSHOP_DIR) && env $(TF_ENV) KYVERNO_BIN=$(KYVERNO) GITLEAKS=$(GITLEAKS) $(GO) test -count=1 -timeout 30m $(if $(V),-v) ./...; \
	echo "test-workshop: passed ($$(( $$(date +%s) - start ))s)"

lint-starter: ## gofmt and go vet on tools/rename and test/workshop
	$(call go_fmt_vet,$(RENAME_DIR))
	$(call go_fmt_vet,$(WORKSHOP_DIR))

# Every Go module of the repository (root, test/*, tools/*), found on disk so that a copy without
# .git works too.
PREFETCH_MODULES = $(shell cd $(ROOT) && find . -name go.mod -not -path './.tools/*' -not -path './.run/*' \
	-not -path '*/.terraform/*' -not -path '*/testdata/*' -not -path '*/node_modules/*' | sed 's|/go.mod$$||; s|^\./||; s|^\.$$|.|' | sort)

# After this, `make test` and `make demo` need no network: every module in the module cache (and
# every package the tests compile listed, which fails now rather than later if one is missing),
# every tool of CI_DEPS built, the service binaries built, the Terraform roots initialised (the
# provider from the offline mirror, or cached from the registry in .run/terraform-plugin-cache).
# Kind mode (Docker) also pulls the kind node and registry images, which this does not fetch.
prefetch: ## Download every Go module and build every tool, so that make test and make demo then run offline
	@start=$$(date +%s); n=0; \
	for m in $(PREFETCH_MODULES); do \
		echo "prefetch: go mod download in $$m"; \
		(cd $(ROOT)/$$m && $(GO) mod download && $(GO) list -deps -test ./... > /dev/null 2>&1 || { \
			cd $(ROOT)/$$m && $(GO) list -deps -test ./... > /dev/null; }) || exit 1; \
		n=$$((n + 1)); \
	done; \
	echo "prefetch: $$n Go modules downloaded and their packages listed ($$(( $$(date +%s) - start ))s)"
	@echo "prefetch: building the tools (make ci-deps: $(CI_DEPS)); cold on 2 cores this is the long part, 30-60 min"
	@$(MAKE) ci-deps
	@$(MAKE) build $(ROOT)/bin/devdb
	@if command -v $(TF) > /dev/null; then $(MAKE) terraform-init; else echo "prefetch: terraform is not on PATH: the Terraform tests will need it (and its AWS provider)"; fi
	@echo "prefetch: done; make test and make demo now run with GOPROXY=off"
