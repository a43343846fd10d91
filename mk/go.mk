# The Go service: build, run, test, lint, bench.
VERSION ?= $(shell git -C $(ROOT) describe --tags --always --dirty 2>/dev/null || echo dev)
GO_LDFLAGS := -s -w -X main.version=$(VERSION)
API_BIN   := $(ROOT)/bin/api
DEVDB_BIN := $(ROOT)/bin/devdb

TEST_TARGETS += test-go test-dockerfile
LINT_TARGETS += lint-go
CI_DEPS      += $(TOOLS_BIN)/golangci-lint ci-postgres

.PHONY: build run test-go test-dockerfile test-go-short lint-go fuzz bench ci-postgres $(API_BIN) $(DEVDB_BIN)

build: $(API_BIN) ## Build the service binary (static, trimmed, version stamped) into bin/api

$(API_BIN):
	@mkdir -p $(dir $@)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(GO_LDFLAGS)" -o $@ ./src/cmd/api

$(DEVDB_BIN):
	@mkdir -p $(dir $@)
	$(GO) build -o $@ ./src/cmd/devdb

run: $(API_BIN) $(DEVDB_BIN) ## Run the API on :8080 against a throwaway PostgreSQL (or the DATABASE_URL you set)
	@if [ -n "$${DATABASE_URL:-}" ]; then \
		echo "make run: using DATABASE_URL from the environment"; exec $(API_BIN); \
	else \
		echo "make run: starting a throwaway PostgreSQL (Ctrl-C stops the API and removes it)"; \
		exec $(DEVDB_BIN) -- $(API_BIN); \
	fi

test-go: ## Service unit and integration tests (real, temporary PostgreSQL), race detector on
	$(GO) test -race -count=1 ./...

test-dockerfile: ## Parse the Dockerfile with BuildKit's parser and enforce its rules
	cd $(ROOT)/test/dockerfile && $(GO) test -count=1 ./...

test-go-short: ## Service tests without the race detector (faster)
	$(GO) test -count=1 ./...

FUZZTIME ?= 30s
fuzz: ## Run each fuzz target for FUZZTIME (plain `go test` runs their seed corpus)
	$(GO) test -run='^$$' -fuzz='^FuzzParseTraceparent$$' -fuzztime=$(FUZZTIME) ./src/internal/trace
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeStrict$$' -fuzztime=$(FUZZTIME) ./src/internal/httpapi
	$(GO) test -run='^$$' -fuzz='^FuzzItemEncoding$$' -fuzztime=$(FUZZTIME) ./src/internal/httpapi
	$(GO) test -run='^$$' -fuzz='^FuzzValidateName$$' -fuzztime=$(FUZZTIME) ./src/internal/items
	$(GO) test -run='^$$' -fuzz='^FuzzString$$' -fuzztime=$(FUZZTIME) ./src/internal/redact

lint-go: $(TOOLS_BIN)/golangci-lint ## gofmt, go vet and golangci-lint on the service
	@out=$$(gofmt -l src); if [ -n "$$out" ]; then echo "gofmt: files need formatting:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(TOOLS_BIN)/golangci-lint run ./...

$(TOOLS_BIN)/golangci-lint: $(ROOT)/tools/golangci-lint/go.mod $(ROOT)/tools/golangci-lint/go.sum
	@echo "building golangci-lint from tools/golangci-lint (cold: about 3-5 min)"
	@mkdir -p $(TOOLS_BIN)
	cd $(ROOT)/tools/golangci-lint && $(GO) build -trimpath -ldflags "-s -w" -o $@ github.com/golangci/golangci-lint/v2/cmd/golangci-lint

# PostgreSQL server binaries for the integration tests: present on the project's machines; on a
# Debian machine without them, install the server package.
ci-postgres:
	@if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "ci: PostgreSQL server binaries present"; \
	else \
		echo "ci: installing PostgreSQL server binaries (apt)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi

bench: $(DEVDB_BIN) ## Service vs bare baselines: throughput, CPU, memory, start-up (docs/performance.md; BENCH_CALLGRIND=1 adds instruction counts)
	$(ROOT)/scripts/bench.sh
