# The pipeline (.github/): workflow lint, the workflow rule checks, the secret scan, git hooks.
#
#   make lint-workflows   actionlint (with shellcheck) on every workflow, zero findings; golangci-lint
#                         on the rules' Go code
#   make test-workflows   the pipeline rules (test/workflows): every rule on the real .github/ tree,
#                         each shown refusing a bad fixture, the mutation suite (insecure changes to
#                         copies of the real workflows, each refused by its rule) and the secure
#                         variants; gitleaks shown catching planted keys; the pre-commit hook shown
#                         refusing a staged key
#   make secret-scan      gitleaks over the whole git history with .gitleaks.toml, zero findings
#   make hooks            turn on the pre-commit secret scan for this clone (.githooks/)
#   make pipeline-tools   build actionlint and gitleaks from tools/, install shellcheck if missing

ACTIONLINT     := $(TOOLS_BIN)/actionlint
GITLEAKS       := $(TOOLS_BIN)/gitleaks
ACTIONLINT_MOD := $(ROOT)/tools/actionlint/go.mod $(ROOT)/tools/actionlint/go.sum
GITLEAKS_MOD   := $(ROOT)/tools/gitleaks/go.mod $(ROOT)/tools/gitleaks/go.sum
GITLEAKS_VER    = $(shell awk '$$1 == "github.com/zricethezav/gitleaks/v8" {print $$2; exit}' $(ROOT)/tools/gitleaks/go.mod)

TEST_TARGETS += test-workflows secret-scan
LINT_TARGETS += lint-workflows
CI_DEPS      += pipeline-tools

.PHONY: pipeline-tools shellcheck lint-workflows test-workflows secret-scan hooks actionlint gitleaks ci-matrix ci-required

pipeline-tools: $(ACTIONLINT) $(GITLEAKS) shellcheck ## Build actionlint and gitleaks, install shellcheck

actionlint: $(ACTIONLINT)
gitleaks: $(GITLEAKS)

$(ACTIONLINT): $(ACTIONLINT_MOD)
	@mkdir -p $(TOOLS_BIN)
	@echo "building actionlint from tools/actionlint (cold: about 1 min on 2 cores)"
	@start=$$(date +%s); \
	cd $(ROOT)/tools/actionlint && $(GO) build -trimpath -ldflags "-s -w" -o $@.tmp github.com/rhysd/actionlint/cmd/actionlint; \
	mv $@.tmp $@; echo "built $@ in $$(( $$(date +%s) - start )) s"

$(GITLEAKS): $(GITLEAKS_MOD)
	@mkdir -p $(TOOLS_BIN)
	@echo "building gitleaks $(GITLEAKS_VER) from tools/gitleaks (cold: about 1-3 min on 2 cores)"
	@start=$$(date +%s); \
	cd $(ROOT)/tools/gitleaks && $(GO) build -trimpath -ldflags "-s -w -X github.com/zricethezav/gitleaks/v8/version.Version=$(GITLEAKS_VER)" -o $@.tmp github.com/zricethezav/gitleaks/v8; \
	mv $@.tmp $@; echo "built $@ in $$(( $$(date +%s) - start )) s"

# actionlint runs shellcheck on every run: script; without it that half of the lint is off, so
# it is installed (Debian's package) rather than skipped.
shellcheck: ## Install shellcheck from Debian's packages if it is missing
	@if ! command -v shellcheck > /dev/null 2>&1; then \
	  echo "installing shellcheck (apt)"; \
	  sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && $$sudo apt-get install -y -qq shellcheck > /dev/null; \
	fi
	@command -v shellcheck > /dev/null || { echo "shellcheck is required (apt-get install shellcheck)" >&2; exit 1; }

lint-workflows: $(ACTIONLINT) $(TOOLS_BIN)/golangci-lint shellcheck ## Lint the workflows (actionlint, with shellcheck on every run: script) and the rules' code
	@echo "actionlint $$($(ACTIONLINT) -version | head -1) with $$(shellcheck --version | sed -n 's/^version: /shellcheck /p') on .github/workflows"
	@cd $(ROOT) && $(ACTIONLINT) -color=false -shellcheck="$$(command -v shellcheck)" && echo "actionlint: no findings"
	@echo "golangci-lint on test/workflows (the rules)"
	@cd $(ROOT)/test/workflows && $(TOOLS_BIN)/golangci-lint run --config $(ROOT)/.golangci.yml ./...

test-workflows: $(GITLEAKS) ## Test the pipeline rules: the real workflows, the fixtures, the mutation suite, gitleaks and the hook
	@cd $(ROOT)/test/workflows && fmt=$$(gofmt -l .) && { [ -z "$$fmt" ] || { echo "gofmt needed: $$fmt" >&2; exit 1; }; } && $(GO) vet ./...
	@echo "test/workflows: the rules on the real workflows, the fixtures, the mutation suite (about 10 s warm)"
	@cd $(ROOT)/test/workflows && GITLEAKS=$(GITLEAKS) $(GO) test -count=1 ./...

# The history scanned is the one reachable from HEAD (what is being tested or submitted), not every
# local branch; known non-secrets in that history are listed by fingerprint in .gitleaksignore.
secret-scan: $(GITLEAKS) ## Scan the whole git history for secrets (gitleaks, .gitleaks.toml)
	@cd $(ROOT) && $(GITLEAKS) git --no-banner --redact --verbose --no-color --config .gitleaks.toml --log-opts=HEAD . \
	  && echo "secret-scan: no leaks in $$(git rev-list --count HEAD) commits"

hooks: $(GITLEAKS) ## Turn on the pre-commit secret scan for this clone
	@cd $(ROOT) && git config core.hooksPath .githooks
	@echo "pre-commit hook on: gitleaks scans staged changes before every commit (.githooks/pre-commit)"

# ci.yaml runs every piece of `make test` as its own job: this prints them as a JSON list for the
# job matrix (test-go and test-e2e have jobs of their own), so a new test target is in CI the
# day it is registered.
CI_MATRIX_EXCLUDE := test-go test-e2e
pipeline_empty :=
pipeline_space  := $(pipeline_empty) $(pipeline_empty)
pipeline_comma  := ,
ci-matrix: ## Print the TEST_TARGETS ci.yaml runs as matrix jobs (JSON)
	@echo '[$(subst $(pipeline_space),$(pipeline_comma),$(patsubst %,"%",$(filter-out $(CI_MATRIX_EXCLUDE),$(TEST_TARGETS))))]'

# Everything the required workflows must run on a pull request: `make lint` and every piece of
# `make test`. The rules (required-checks) check that ci.yaml and e2e.yaml run each of them.
ci-required: ## Print the make targets CI must run on every pull request (JSON)
	@echo '[$(subst $(pipeline_space),$(pipeline_comma),$(patsubst %,"%",lint $(TEST_TARGETS)))]'
