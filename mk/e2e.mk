# End-to-end: the guardrails proven on a real API server, and the demo.
#
#   make test-e2e      the guardrail suite (test/e2e/guardrails) on kind where Docker answers,
#                      else on a local control plane (etcd + kube-apiserver + Kyverno as local
#                      processes); E2E_CLUSTER=kind|local|existing overrides, E2E_RUN=<regexp>
#                      runs some tests only (e.g. E2E_RUN=TestGuardrailMatrix/latest-tag)
#   make demo          bring the cluster up, deploy, print the scoreboard (idempotent)
#   make demo-down     stop everything the demo started
#   make e2e-tools     build etcd and kube-apiserver from tools/ (Kyverno: mk/policies.mk)
#
# The Kyverno binaries come from mk/policies.mk and the service binary from mk/go.mk; their
# paths are spelled out here because this file is read before those define their variables.

ETCD            := $(TOOLS_BIN)/etcd
KUBE_APISERVER  := $(TOOLS_BIN)/kube-apiserver
E2E_DIR         := $(ROOT)/test/e2e
E2E_KYVERNO     := $(TOOLS_BIN)/kyverno-admission $(TOOLS_BIN)/kyverno-background
E2E_SERVICE     := $(ROOT)/bin/api
# etcd and kube-apiserver are for the local control plane only: not built when the mode is
# known to be kind or existing (the e2e workflow sets E2E_CLUSTER=kind).
E2E_CONTROL_PLANE := $(if $(filter kind existing,$(E2E_CLUSTER)),,$(ETCD) $(KUBE_APISERVER))
E2E_RUN         ?=
E2E_TEST_BIN    := $(RUN_DIR)/e2e/guardrails.test
DEMO_BIN        := $(RUN_DIR)/demo/demo

# Commands are separated by ";" (not "&&") so that the recipe shell's -e stops at a failed build.
# Each build records its duration in <tool>.build-seconds; the suite's report prints it.
# The kube-apiserver version comes from tools/kube-apiserver/go.mod; stamped into the binary,
# or kubectl cannot parse the server's version.
K8S_VERSION      = $(shell awk '$$1 == "require" && $$2 == "k8s.io/kubernetes" {print $$3}' $(ROOT)/tools/kube-apiserver/go.mod)
K8S_MINOR        = $(word 2,$(subst ., ,$(K8S_VERSION)))
K8S_VERSION_LDFLAGS = $(foreach p,k8s.io/component-base/version k8s.io/client-go/pkg/version,\
	-X $(p).gitVersion=$(K8S_VERSION) -X $(p).gitMajor=1 -X $(p).gitMinor=$(K8S_MINOR))

TEST_TARGETS += test-e2e
LINT_TARGETS += lint-e2e
CI_DEPS      += e2e-tools

# The packages of this area of the shared test module (test/e2e/terraform is another's).
E2E_PKGS := ./internal/... ./guardrails/... ./cmd/...

.PHONY: e2e-tools test-e2e test-e2e-unit lint-e2e demo demo-down

e2e-tools: $(ETCD) $(KUBE_APISERVER) ## Build etcd and kube-apiserver for the local control plane

$(ETCD): $(ROOT)/tools/etcd/go.mod $(ROOT)/tools/etcd/go.sum
	@mkdir -p $(TOOLS_BIN)
	@echo "building etcd from tools/etcd (cold: about 1.5-3 min)"
	@start=$$(date +%s); cd $(ROOT)/tools/etcd; \
	$(GO) build -ldflags "-s -w" -o $@.tmp go.etcd.io/etcd/server/v3; mv $@.tmp $@; \
	echo "$$(( $$(date +%s) - start ))" > $@.build-seconds; echo "built $@ in $$(cat $@.build-seconds) s"

$(KUBE_APISERVER): $(ROOT)/tools/kube-apiserver/go.mod $(ROOT)/tools/kube-apiserver/go.sum
	@mkdir -p $(TOOLS_BIN)
	@echo "building kube-apiserver $(K8S_VERSION) from tools/kube-apiserver (cold: 7-20 min, 2.1 GB)"
	@start=$$(date +%s); cd $(ROOT)/tools/kube-apiserver; \
	$(GO) build -ldflags "-s -w $(K8S_VERSION_LDFLAGS)" -o $@.tmp k8s.io/kubernetes/cmd/kube-apiserver; mv $@.tmp $@; \
	echo "$$(( $$(date +%s) - start ))" > $@.build-seconds; echo "built $@ in $$(cat $@.build-seconds) s"

lint-e2e: ## gofmt and go vet on the e2e harness, tests and demo
	@out=$$(cd $(E2E_DIR) && gofmt -l internal guardrails cmd); if [ -n "$$out" ]; then echo "gofmt: files need formatting:"; echo "$$out"; exit 1; fi
	cd $(E2E_DIR) && $(GO) vet $(E2E_PKGS)

test-e2e-unit: ## The e2e harness's own unit tests (no cluster)
	cd $(E2E_DIR) && $(GO) test -count=1 ./internal/...

# The suite is compiled, then run as a binary so that its report (phase timings, admission
# latency) is printed on success too; E2E_VERBOSE=1 lists every test and refusal.
test-e2e: test-e2e-unit $(E2E_CONTROL_PLANE) $(E2E_KYVERNO) $(E2E_SERVICE) ## Guardrails on a real API server (kind or local)
	@mkdir -p $(dir $(E2E_TEST_BIN))
	@cd $(E2E_DIR) && $(GO) test -c -o $(E2E_TEST_BIN) ./guardrails
	cd $(E2E_DIR)/guardrails && $(E2E_TEST_BIN) -test.timeout=20m \
		$(if $(E2E_VERBOSE),-test.v) $(if $(E2E_RUN),-test.run='$(E2E_RUN)')

demo: $(E2E_CONTROL_PLANE) $(E2E_KYVERNO) $(E2E_SERVICE) $(ROOT)/bin/devdb ## Local demo: cluster, policies, deploy, scoreboard
	@mkdir -p $(dir $(DEMO_BIN))
	@cd $(E2E_DIR) && $(GO) build -o $(DEMO_BIN) ./cmd/demo
	@cd $(E2E_DIR) && $(DEMO_BIN) up

demo-down: ## Stop everything `make demo` started
	@if [ -x $(DEMO_BIN) ]; then cd $(E2E_DIR) && $(DEMO_BIN) down; \
	else cd $(E2E_DIR) && $(GO) run ./cmd/demo down; fi
