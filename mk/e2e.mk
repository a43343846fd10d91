# End-to-end: the guardrails proven on a cluster whose node runs pods, and the demo
# (test/e2e/README.md says what runs where).
#
#   make test-e2e      the suite (test/e2e/guardrails) on kind where Docker answers, else on the
#                      local cluster (a node in its own namespaces: etcd, the Kubernetes
#                      components, containerd, kube-router, CoreDNS); E2E_CLUSTER=kind|local|existing
#                      overrides, E2E_RUN=<regexp> runs some tests only (e.g.
#                      E2E_RUN=TestGuardrailMatrix/latest-tag), E2E_VERBOSE=1 lists every test
#   make demo          bring the cluster up, deploy, print the scoreboard, one request (idempotent)
#   make demo-down     stop everything the demo started; fails if anything is left behind
#   make demo-audit    the refused requests in the demo's audit log (AUDIT='-grep privileged',
#                      '-resource pods', '-who USER', '-summary', '-file LOG'; see test/e2e/README.md)
#   (the cluster's programs: mk/tools.mk, `make e2e-tools`; its node runtime: node-packages below)

E2E_DIR         := $(ROOT)/test/e2e
# Kyverno's controllers run in the cluster from images assembled out of these binaries.
E2E_KYVERNO     := $(KYVERNO_ADMISSION) $(KYVERNO_BACKGROUND) $(KYVERNO_INIT) $(KYVERNO_REPORTS)
E2E_SERVICE     := $(ROOT)/bin/api
# The local node's runtime from Debian's packages, each pinned to the version measured here
# (package=upstream version prefix); nftables, iptables and ipset are the agents' tools.
NODE_DEBS       := containerd=1.6.20~ runc=1.1.5+ containernetworking-plugins=1.1.1+
NODE_DEB_TOOLS  := nftables iptables ipset
# The local cluster's pieces are not built when the mode is known to be kind or existing (the
# e2e workflow sets E2E_CLUSTER=kind): kind brings its own node.
E2E_LOCAL_ONLY  := $(if $(filter kind existing,$(E2E_CLUSTER)),,$(ETCD) $(K8S_BINS) $(ADDON_BINS) $(PAUSE) node-packages)
# What test-workshop (mk/starter.mk) builds first for the labs that run the e2e suite.
E2E_CONTROL_PLANE := $(E2E_LOCAL_ONLY)
E2E_RUN         ?=
E2E_TEST_BIN    := $(RUN_DIR)/e2e/guardrails.test
DEMO_BIN        := $(RUN_DIR)/demo/demo

TEST_TARGETS += test-e2e
LINT_TARGETS += lint-e2e

# The packages of this area of the shared test module (test/e2e/terraform is another's), with
# the helpers the e2e tests share with the offline checks (test/internal).
E2E_PKGS := ./internal/... ./guardrails/... ./cmd/... ../internal/...

.PHONY: node-packages test-e2e test-e2e-unit lint-e2e demo demo-down demo-audit

# containerd, runc and the CNI plugins from Debian's packages, like shellcheck (mk/pipeline.mk):
# installed when missing, then each checked against the version this setup was measured with.
node-packages: ## Install the local node's runtime from Debian's packages (containerd, runc, CNI plugins, nftables, iptables, ipset)
	@missing=""; for p in $(foreach d,$(NODE_DEBS),$(firstword $(subst =, ,$(d)))) $(NODE_DEB_TOOLS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing (apt)"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing > /dev/null; \
	fi; \
	for d in $(NODE_DEBS); do p=$${d%%=*}; want=$${d#*=}; \
	  have=$$(dpkg-query -W -f='$${Version}' $$p 2>/dev/null); \
	  case "$$have" in "$$want"*) ;; *) echo "$$p $$have installed; the local node is set up for $$want (see test/e2e/README.md)" >&2; exit 1;; esac; \
	done

lint-e2e: $(GOLANGCI_LINT) ## gofmt, go vet and golangci-lint on the e2e harness, tests and demo
	$(call go_fmt_vet,$(E2E_DIR),internal guardrails cmd ../internal,$(E2E_PKGS))
	cd $(E2E_DIR) && $(GOLANGCI_LINT) run --config $(ROOT)/.golangci.yml $(E2E_PKGS)

test-e2e-unit: ## The e2e harness's own unit tests (no cluster)
	cd $(E2E_DIR) && $(GO) test -count=1 ./internal/... ../internal/repo/...

# The suite is compiled, then run as a binary so that its report (phase timings, admission
# latency) is printed on success too; E2E_VERBOSE=1 lists every test and refusal.
test-e2e: test-e2e-unit $(E2E_LOCAL_ONLY) $(E2E_KYVERNO) $(E2E_SERVICE) ## Guardrails on a real API server (kind or local)
	@mkdir -p $(dir $(E2E_TEST_BIN))
	@cd $(E2E_DIR) && $(GO) test -c -o $(E2E_TEST_BIN) ./guardrails
	cd $(E2E_DIR)/guardrails && $(E2E_TEST_BIN) -test.timeout=20m \
		$(if $(E2E_VERBOSE),-test.v) $(if $(E2E_RUN),-test.run='$(E2E_RUN)')

demo: $(E2E_LOCAL_ONLY) $(E2E_KYVERNO) $(E2E_SERVICE) ## Local demo: cluster, policies, deploy, scoreboard
	@mkdir -p $(dir $(DEMO_BIN))
	@cd $(E2E_DIR) && $(GO) build -o $(DEMO_BIN) ./cmd/demo
	@cd $(E2E_DIR) && $(DEMO_BIN) up

demo-down: ## Stop everything `make demo` started
	@if [ -x $(DEMO_BIN) ]; then cd $(E2E_DIR) && $(DEMO_BIN) down; \
	else cd $(E2E_DIR) && $(GO) run ./cmd/demo down; fi

AUDIT ?=
demo-audit: ## The refused requests in the demo's audit log (AUDIT='-grep privileged')
	@mkdir -p $(dir $(DEMO_BIN))
	@cd $(E2E_DIR) && $(GO) build -o $(DEMO_BIN) ./cmd/demo
	@cd $(E2E_DIR) && $(DEMO_BIN) audit $(AUDIT)
