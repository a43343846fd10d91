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
#   make kyverno-tools     build the Kyverno CLI, admission controller and background controller
#                          (once; reused until tools/kyverno/go.mod or go.sum change)
#
# Other areas (the end-to-end tests) depend on the FILE targets $(KYVERNO), $(KYVERNO_ADMISSION)
# and $(KYVERNO_BACKGROUND).

KYVERNO            := $(TOOLS_BIN)/kyverno
KYVERNO_ADMISSION  := $(TOOLS_BIN)/kyverno-admission
KYVERNO_BACKGROUND := $(TOOLS_BIN)/kyverno-background
KYVERNO_MOD        := $(ROOT)/tools/kyverno/go.mod $(ROOT)/tools/kyverno/go.sum
POLICIES_DIR       := $(ROOT)/policies/kyverno

CI_DEPS      += kyverno-tools
TEST_TARGETS += test-policies
LINT_TARGETS += lint-policies

.PHONY: kyverno-tools kyverno-cases test-policies lint-policies

kyverno-tools: $(KYVERNO) $(KYVERNO_ADMISSION) $(KYVERNO_BACKGROUND) ## Build the pinned Kyverno CLI, admission and background controllers

# One go build at a time (order-only prerequisites chain them): each peaks at several GiB.
define kyverno_build
	@mkdir -p $(TOOLS_BIN)
	@echo "building $(1) (Kyverno v1.19.1) from tools/kyverno into $@ ($(2))"
	@start=$$(date +%s); \
	cd $(ROOT)/tools/kyverno && $(GO) build -trimpath -ldflags "-s -w" -o $@.tmp $(3); \
	mv $@.tmp $@; echo "built $@ in $$(( $$(date +%s) - start )) s"
endef

$(KYVERNO): $(KYVERNO_MOD)
	$(call kyverno_build,the Kyverno CLI,cold: about 10 min and 3.5 GiB,github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno)

$(KYVERNO_ADMISSION): $(KYVERNO_MOD) | $(KYVERNO)
	$(call kyverno_build,the Kyverno admission controller,about 2 min after the CLI,github.com/kyverno/kyverno/cmd/kyverno)

$(KYVERNO_BACKGROUND): $(KYVERNO_MOD) | $(KYVERNO_ADMISSION)
	$(call kyverno_build,the Kyverno background controller (runs GeneratingPolicies),about 1 min after the others,github.com/kyverno/kyverno/cmd/background-controller)

test-policies: $(KYVERNO) ## Kyverno policy tests: kyverno test, coverage, messages, rendered overlays, signatures
	@echo "kyverno test: the CLI test of every policy in policies/kyverno/base"
	@cd $(POLICIES_DIR)/base && $(KYVERNO) test . --remove-color
	@echo "go test: test/policies (coverage, refusal messages, rendered k8s overlays, image signatures)"
	@cd $(ROOT)/test/policies && KYVERNO_BIN=$(KYVERNO) $(GO) test -count=1 ./...

kyverno-cases: ## Regenerate the Kyverno test resources from each policy's cases.yaml
	@cd $(ROOT)/test && $(GO) run ./policies/cmd/kyvernocases -policies $(POLICIES_DIR)

lint-policies: $(TOOLS_BIN)/golangci-lint ## gofmt, go vet and golangci-lint on test/policies
	@cd $(ROOT)/test/policies && unformatted="$$(gofmt -l .)" && \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	@cd $(ROOT)/test/policies && $(GO) vet ./... && $(TOOLS_BIN)/golangci-lint run ./...
