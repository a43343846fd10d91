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
	@cd $(RENAME_DIR) && $(GO) run . -root $(ROOT) -module '$(MODULE)' -name '$(NAME)' $(if $(REPO),-repo '$(REPO)') $(if $(DRY_RUN),-dry-run)

test-rename: $(KYVERNO) ## Rename a copy of the repository and run the fast checks there (about 1 min warm)
	@cd $(RENAME_DIR) && fmt=$$(gofmt -l .) && { [ -z "$$fmt" ] || { echo "gofmt needed: $$fmt" >&2; exit 1; }; } && $(GO) vet ./...
	@echo "test-rename: unit tests, then a copy of the repository renamed to github.com/acme/payments and checked"
	@start=$$(date +%s); \
	cd $(RENAME_DIR) && env $(TF_ENV) KYVERNO_BIN=$(KYVERNO) $(GO) test -count=1 -timeout 20m $(if $(V),-v) ./...; \
	echo "test-rename: passed ($$(( $$(date +%s) - start ))s)"

# Labs 01 and 03 run `make test-e2e` (their state in a temporary folder), so the e2e tools are
# prerequisites; the others need the Kyverno CLI, gitleaks and terraform.
test-workshop: $(KYVERNO) $(GITLEAKS) $(E2E_CONTROL_PLANE) $(E2E_KYVERNO) ## Apply every workshop lab's break to a scratch clone and assert its refusal
	@cd $(WORKSHOP_DIR) && fmt=$$(gofmt -l .) && { [ -z "$$fmt" ] || { echo "gofmt needed: $$fmt" >&2; exit 1; }; } && $(GO) vet ./...
	@echo "test-workshop: each lab of docs/workshop applied to a scratch clone, refusal asserted (about 2 min warm)"
	@start=$$(date +%s); \
	cd $(WORKSHOP_DIR) && env $(TF_ENV) KYVERNO_BIN=$(KYVERNO) GITLEAKS=$(GITLEAKS) $(GO) test -count=1 -timeout 30m $(if $(V),-v) ./...; \
	echo "test-workshop: passed ($$(( $$(date +%s) - start ))s)"

lint-starter: ## gofmt and go vet on tools/rename and test/workshop
	@for d in $(RENAME_DIR) $(wildcard $(WORKSHOP_DIR)); do \
		(cd $$d && fmt=$$(gofmt -l .) && { [ -z "$$fmt" ] || { echo "gofmt needed in $$d: $$fmt" >&2; exit 1; }; } && $(GO) vet ./...); \
	done
