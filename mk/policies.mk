# Admission policies (Kyverno): the pinned Kyverno binaries and the policy tests.
#
#   make test-policies     `kyverno test` on every policies/kyverno/base/*/kyverno-test.yaml, then the
#                          Go checks in test/policies: every policy covered by failing cases, each
#                          refusal's message, the rendered k8s overlays against every policy, and
#                          image signatures against a loopback OCI registry
#   make kyverno-cases     regenerate each policy's resources.yaml and kyverno-test.yaml from its
#                          cases.yaml (a good base plus a patch per case; test/policies checks
#                          that the generated files are current)
#   make lint-policies     gofmt, go vet and golangci-lint on test/policies
#   (the Kyverno binaries: mk/tools.mk, `make kyverno-tools`)

POLICIES_DIR       := $(ROOT)/policies/kyverno

TEST_TARGETS += test-policies
LINT_TARGETS += lint-policies

.PHONY: kyverno-cases test-policies lint-policies

test-policies: $(KYVERNO) ## Kyverno policy tests: kyverno test, coverage, messages, rendered overlays, signatures
	@echo "kyverno test: the CLI test of every policy in policies/kyverno/base"
	@cd $(POLICIES_DIR)/base && $(KYVERNO) test . --remove-color
	@echo "go test: test/policies (coverage, refusal messages, rendered k8s overlays, image signatures)"
	@cd $(ROOT)/test/policies && KYVERNO_BIN=$(KYVERNO) $(GO) test -count=1 ./...

kyverno-cases: ## Regenerate the Kyverno test resources from each policy's cases.yaml
	@cd $(ROOT)/test && $(GO) run ./policies/cmd/kyvernocases -policies $(POLICIES_DIR)

lint-policies: $(GOLANGCI_LINT) ## gofmt, go vet and golangci-lint on test/policies
	$(call go_fmt_vet,$(ROOT)/test/policies)
	@cd $(ROOT)/test/policies && $(GOLANGCI_LINT) run ./...
