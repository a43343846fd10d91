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
#   make e2e-tools     build the local cluster's programs from tools/ and install its node runtime
#                      from Debian's packages (Kyverno's CLI and controllers: mk/policies.mk)
#
# The Kyverno binaries come from mk/policies.mk and the service binary from mk/go.mk; their
# paths are spelled out here because this file is read before those define their variables.

ETCD            := $(TOOLS_BIN)/etcd
# The Kubernetes components, all from tools/kubernetes (one pinned k8s.io/kubernetes): one go
# build makes all five, so they share compiled packages.
K8S_COMPONENTS  := kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy
K8S_BINS        := $(addprefix $(TOOLS_BIN)/,$(K8S_COMPONENTS))
KUBE_APISERVER  := $(TOOLS_BIN)/kube-apiserver
# The node's add-ons from tools/addons: CoreDNS (its image) and kube-router (NetworkPolicy).
ADDON_BINS      := $(TOOLS_BIN)/coredns $(TOOLS_BIN)/kube-router
# The sandbox ("pause") image's program, from k8s.io/kubernetes's build/pause/linux/pause.c.
PAUSE           := $(TOOLS_BIN)/pause
E2E_DIR         := $(ROOT)/test/e2e
# Kyverno's controllers run in the cluster from images assembled out of these binaries
# (mk/policies.mk builds the first two; the init container's program and the reports controller
# are built here).
KYVERNO_INIT    := $(TOOLS_BIN)/kyverno-init
# The reports controller: Kyverno's background scan, which writes the policy reports.
KYVERNO_REPORTS := $(TOOLS_BIN)/kyverno-reports
E2E_KYVERNO     := $(TOOLS_BIN)/kyverno-admission $(TOOLS_BIN)/kyverno-background $(KYVERNO_INIT) $(KYVERNO_REPORTS)
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

# Commands are separated by ";" (not "&&") so that the recipe shell's -e stops at a failed build.
# Each build records its duration in <tool>.build-seconds; the suite's report prints it.
# The Kubernetes version comes from tools/kubernetes/go.mod; stamped into the binaries, or
# kubectl cannot parse the server's version (and the kubelet would report v0.0.0).
K8S_VERSION      = $(shell awk '$$1 == "require" && $$2 == "k8s.io/kubernetes" {print $$3}' $(ROOT)/tools/kubernetes/go.mod)
K8S_MINOR        = $(word 2,$(subst ., ,$(K8S_VERSION)))
K8S_VERSION_LDFLAGS = $(foreach p,k8s.io/component-base/version k8s.io/client-go/pkg/version,\
	-X $(p).gitVersion=$(K8S_VERSION) -X $(p).gitMajor=1 -X $(p).gitMinor=$(K8S_MINOR))

TEST_TARGETS += test-e2e
LINT_TARGETS += lint-e2e
CI_DEPS      += e2e-tools

# The packages of this area of the shared test module (test/e2e/terraform is another's).
E2E_PKGS := ./internal/... ./guardrails/... ./cmd/...

.PHONY: e2e-tools node-packages test-e2e test-e2e-unit lint-e2e demo demo-down demo-audit

e2e-tools: $(ETCD) $(K8S_BINS) $(ADDON_BINS) $(PAUSE) $(KYVERNO_INIT) $(KYVERNO_REPORTS) node-packages ## Build the local cluster's programs, install its node runtime (Kyverno: mk/policies.mk)

$(ETCD): $(ROOT)/tools/etcd/go.mod $(ROOT)/tools/etcd/go.sum
	@mkdir -p $(TOOLS_BIN)
	@echo "building etcd from tools/etcd (cold: about 1.5-3 min)"
	@start=$$(date +%s); cd $(ROOT)/tools/etcd; \
	$(GO) build -ldflags "-s -w" -o $@.tmp go.etcd.io/etcd/server/v3; mv $@.tmp $@; \
	echo "$$(( $$(date +%s) - start ))" > $@.build-seconds; echo "built $@ in $$(cat $@.build-seconds) s"

# One go build for the five (a grouped target: one run makes them all).
$(K8S_BINS) &: $(ROOT)/tools/kubernetes/go.mod $(ROOT)/tools/kubernetes/go.sum
	@mkdir -p $(TOOLS_BIN)/.k8s-build
	@echo "building $(K8S_COMPONENTS) $(K8S_VERSION) from tools/kubernetes (cold: 15-30 min and up to 3 GB; kube-apiserver alone 7-20 min)"
	@start=$$(date +%s); cd $(ROOT)/tools/kubernetes; \
	$(GO) build -ldflags "-s -w $(K8S_VERSION_LDFLAGS)" -o $(TOOLS_BIN)/.k8s-build/ \
		$(addprefix k8s.io/kubernetes/cmd/,$(K8S_COMPONENTS)); \
	for b in $(K8S_COMPONENTS); do mv $(TOOLS_BIN)/.k8s-build/$$b $(TOOLS_BIN)/$$b; done; \
	secs=$$(( $$(date +%s) - start )); for b in $(K8S_COMPONENTS); do echo $$secs > $(TOOLS_BIN)/$$b.build-seconds; done; \
	echo "built $(K8S_COMPONENTS) in $$secs s"

$(ADDON_BINS) &: $(ROOT)/tools/addons/go.mod $(ROOT)/tools/addons/go.sum $(ROOT)/tools/addons/coredns/main.go
	@mkdir -p $(TOOLS_BIN)/.addons-build
	@echo "building CoreDNS and kube-router from tools/addons (cold: 5-10 min)"
	@start=$$(date +%s); cd $(ROOT)/tools/addons; \
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o $(TOOLS_BIN)/.addons-build/ \
		./coredns github.com/cloudnativelabs/kube-router/v2/cmd/kube-router; \
	for b in coredns kube-router; do mv $(TOOLS_BIN)/.addons-build/$$b $(TOOLS_BIN)/$$b; done; \
	secs=$$(( $$(date +%s) - start )); for b in coredns kube-router; do echo $$secs > $(TOOLS_BIN)/$$b.build-seconds; done; \
	echo "built coredns and kube-router in $$secs s"

# pause.c as kubernetes's build/pause/Makefile compiles it (static), at the pinned version.
$(PAUSE): $(ROOT)/tools/kubernetes/go.mod
	@mkdir -p $(TOOLS_BIN)
	@src=$$(cd $(ROOT)/tools/kubernetes && $(GO) list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause; \
	tag=$$(awk '$$1 == "TAG" {print $$3}' $$src/Makefile); \
	echo "building pause $$tag from k8s.io/kubernetes $(K8S_VERSION) (gcc -static)"; \
	gcc -Os -Wall -Werror -static -DVERSION=v$$tag-$(K8S_VERSION) -o $@.tmp $$src/linux/pause.c; mv $@.tmp $@

# Kyverno's init container (kyvernopre), after the other Kyverno builds (each peaks at GiBs).
$(KYVERNO_INIT): $(ROOT)/tools/kyverno/go.mod $(ROOT)/tools/kyverno/go.sum | $(TOOLS_BIN)/kyverno-background
	@echo "building Kyverno's init container program (kyvernopre) from tools/kyverno (about 1 min after the others)"
	@start=$$(date +%s); cd $(ROOT)/tools/kyverno && $(GO) build -trimpath -ldflags "-s -w" -o $@.tmp github.com/kyverno/kyverno/cmd/kyverno-init; \
	mv $@.tmp $@; echo "built $@ in $$(( $$(date +%s) - start )) s"

# Kyverno's reports controller (background scan, policy reports), after the init program.
$(KYVERNO_REPORTS): $(ROOT)/tools/kyverno/go.mod $(ROOT)/tools/kyverno/go.sum | $(KYVERNO_INIT)
	@echo "building Kyverno's reports controller from tools/kyverno (about 1-3 min after the others; up to 3 GiB at link)"
	@start=$$(date +%s); cd $(ROOT)/tools/kyverno && $(GO) build -trimpath -ldflags "-s -w" -o $@.tmp github.com/kyverno/kyverno/cmd/reports-controller; \
	mv $@.tmp $@; secs=$$(( $$(date +%s) - start )); echo $$secs > $@.build-seconds; echo "built $@ in $$secs s"

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

lint-e2e: $(TOOLS_BIN)/golangci-lint ## gofmt, go vet and golangci-lint on the e2e harness, tests and demo
	@out=$$(cd $(E2E_DIR) && gofmt -l internal guardrails cmd); if [ -n "$$out" ]; then echo "gofmt: files need formatting:"; echo "$$out"; exit 1; fi
	cd $(E2E_DIR) && $(GO) vet $(E2E_PKGS)
	cd $(E2E_DIR) && $(TOOLS_BIN)/golangci-lint run --config $(ROOT)/.golangci.yml $(E2E_PKGS)

test-e2e-unit: ## The e2e harness's own unit tests (no cluster)
	cd $(E2E_DIR) && $(GO) test -count=1 ./internal/...

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
