# The supply chain, run locally: `make release` is the build-scan-sign workflow's pipeline with
# the same tools, step for step (test/e2e/cmd/release/README.md).
#
#   make release          build the image (Dockerfile where its bases are present, else assembled
#                         from bin/api), SBOM (cyclonedx-gomod), scan (Trivy, where a vulnerability
#                         database is present; said plainly when not), push, sign the digest,
#                         attest the SBOM and a SLSA v1 provenance, verify all three with cosign,
#                         ask Kyverno whether the demo's image policy admits it; prints the digest and
#                         keeps the release in .run/release (RELEASE_DIR) for make demo.
#                         RELEASE_REGISTRY=host:port pushes to that registry (default: one on
#                         loopback for the release); RELEASE_REQUIRE_SCAN=1 fails when no scan runs
#   make test-release     the release's packages (provenance, SBOM, cosign, image) and a whole
#                         release against a loopback registry, verified by cosign
#   (cosign and cyclonedx-gomod: mk/tools.mk, `make supply-tools`)
#
# cosign and cyclonedx-gomod come from the tools/kyverno module (cosign is in Kyverno's graph at
# the version Kyverno verifies with; neither tool moves a version Kyverno selects).

RELEASE_DIR     ?= $(RUN_DIR)/release
RELEASE_CMD     := $(RUN_DIR)/bin/release
EVIDENCE_CMD    := $(RUN_DIR)/bin/evidence
RELEASE_PKGS    := ./cmd/release/... ./cmd/evidence/... ./internal/release/... ./internal/provenance/... ./internal/sbom/... ../internal/cosign/... ../internal/oci/...

# The tests that sign and attest (test-policies, test-release, test-e2e, test-workshop) find the
# tools through these variables, exported to every recipe.
export COSIGN_BIN          := $(COSIGN)
export CYCLONEDX_GOMOD_BIN := $(CYCLONEDX_GOMOD)

TEST_TARGETS += test-release
LINT_TARGETS += lint-release

.PHONY: evidence release test-release lint-release


# The SBOM and provenance writers alone (standard library only), for build-scan-sign.
evidence: ## Build .run/bin/evidence, the workflow's SBOM and provenance writer
	@mkdir -p $(dir $(EVIDENCE_CMD))
	cd $(E2E_DIR) && $(GO) build -o $(EVIDENCE_CMD) ./cmd/evidence

# bin/api is rebuilt every time (phony in mk/go.mk) with the version stamped, as the image's /api.
release: $(COSIGN) $(CYCLONEDX_GOMOD) $(KYVERNO) $(API_BIN) ## The pipeline locally: build, SBOM, scan, push, sign, attest, verify, admission check; prints the digest
	@mkdir -p $(dir $(RELEASE_CMD))
	@cd $(E2E_DIR) && $(GO) build -o $(RELEASE_CMD) ./cmd/release
	@$(RELEASE_CMD) run -root $(ROOT) -dir $(RELEASE_DIR) -binary $(API_BIN) -version $(VERSION) \
		-cosign $(COSIGN) -cyclonedx-gomod $(CYCLONEDX_GOMOD) -kyverno $(KYVERNO)

test-release: $(COSIGN) $(CYCLONEDX_GOMOD) $(KYVERNO) ## The release's packages, and whole releases verified by cosign and Kyverno
	@echo "test-release: provenance, SBOM, cosign and image packages, then whole releases on a loopback registry"
	cd $(E2E_DIR) && KYVERNO_BIN=$(KYVERNO) $(GO) test -count=1 $(RELEASE_PKGS)

# Image signatures and attestations in the policy tests are made by cosign; workshop lab 08 runs
# make release; make demo deploys what make release kept (.run/release) when there is one.
test-policies: $(COSIGN)
test-workshop: $(COSIGN) $(CYCLONEDX_GOMOD)
# The e2e harness signs and attests its images with cosign, with the service binary's SBOM; its
# unit tests include the release's packages (which also run the Kyverno CLI).
test-e2e test-e2e-unit demo: $(COSIGN) $(CYCLONEDX_GOMOD)
test-e2e-unit: $(KYVERNO)

lint-release: $(TOOLS_BIN)/golangci-lint ## gofmt, go vet and golangci-lint on the release command and its packages
	@out=$$(cd $(E2E_DIR) && gofmt -l cmd/release cmd/evidence internal/release internal/provenance internal/sbom ../internal/cosign ../internal/oci); \
	if [ -n "$$out" ]; then echo "gofmt: files need formatting:"; echo "$$out"; exit 1; fi
	cd $(E2E_DIR) && $(GO) vet $(RELEASE_PKGS) && $(TOOLS_BIN)/golangci-lint run $(RELEASE_PKGS)
