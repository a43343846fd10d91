# Tools: every program the tests, the linters and the demo build from a pinned module in tools/,
# built once into .tools/bin and reused until that module's go.mod or go.sum changes. Included
# before the area files, which use the paths below as prerequisites.
#
#   make tools            build every tool below (also part of `make ci-deps`)
#   make kyverno-tools    the Kyverno CLI and its admission and background controllers
#   make e2e-tools        the local cluster's programs (etcd, the five Kubernetes components,
#                         CoreDNS, kube-router, pause, Kyverno's init and reports programs) and
#                         its node runtime from Debian's packages
#   make supply-tools     cosign and cyclonedx-gomod (make release, the signed images of the tests)
#   make pipeline-tools   actionlint and gitleaks, and shellcheck from Debian's packages
#
# Cold builds on 2 cores, measured (each build writes its time to <tool>.build-seconds): the
# Kyverno CLI about 10 min, the five Kubernetes components 15-30 min in one go build, CoreDNS and
# kube-router 5-14 min, golangci-lint 3-5 min, etcd 1.5-3 min, the others a minute or two.

GOLANGCI_LINT      := $(TOOLS_BIN)/golangci-lint
ACTIONLINT         := $(TOOLS_BIN)/actionlint
GITLEAKS           := $(TOOLS_BIN)/gitleaks
# terraform-docs is pinned in tools/actionlint (one module for the small configuration linters).
TERRAFORM_DOCS     := $(TOOLS_BIN)/terraform-docs
KYVERNO            := $(TOOLS_BIN)/kyverno
KYVERNO_ADMISSION  := $(TOOLS_BIN)/kyverno-admission
KYVERNO_BACKGROUND := $(TOOLS_BIN)/kyverno-background
# Kyverno's init container program and its reports controller (background scan, policy reports).
KYVERNO_INIT       := $(TOOLS_BIN)/kyverno-init
KYVERNO_REPORTS    := $(TOOLS_BIN)/kyverno-reports
ETCD               := $(TOOLS_BIN)/etcd
# The Kubernetes components, all from tools/kubernetes (one pinned k8s.io/kubernetes): one go
# build makes all five, so they share compiled packages.
K8S_COMPONENTS     := kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy
K8S_BINS           := $(addprefix $(TOOLS_BIN)/,$(K8S_COMPONENTS))
KUBE_APISERVER     := $(TOOLS_BIN)/kube-apiserver
# The node's add-ons from tools/addons: CoreDNS (its image) and kube-router (NetworkPolicy).
ADDON_BINS         := $(TOOLS_BIN)/coredns $(TOOLS_BIN)/kube-router
# The supply chain's tools, from tools/kyverno (cosign at the version Kyverno verifies with).
COSIGN             := $(TOOLS_BIN)/cosign
CYCLONEDX_GOMOD    := $(TOOLS_BIN)/cyclonedx-gomod
COSIGN_VERSION      = $(shell awk '$$1 == "github.com/sigstore/cosign/v3" {print $$2; exit}' $(ROOT)/tools/kyverno/go.mod)
# The sandbox ("pause") image's program, from k8s.io/kubernetes's build/pause/linux/pause.c.
PAUSE              := $(TOOLS_BIN)/pause

tools_mod = $(ROOT)/tools/$(1)/go.mod $(ROOT)/tools/$(1)/go.sum
GITLEAKS_VER        = $(shell awk '$$1 == "github.com/zricethezav/gitleaks/v8" {print $$2; exit}' $(ROOT)/tools/gitleaks/go.mod)
# The Kubernetes version comes from tools/kubernetes/go.mod; stamped into the binaries, or
# kubectl cannot parse the server's version (and the kubelet would report v0.0.0).
K8S_VERSION         = $(shell awk '$$1 == "require" && $$2 == "k8s.io/kubernetes" {print $$3}' $(ROOT)/tools/kubernetes/go.mod)
K8S_MINOR           = $(word 2,$(subst ., ,$(K8S_VERSION)))
K8S_VERSION_LDFLAGS = $(foreach p,k8s.io/component-base/version k8s.io/client-go/pkg/version,\
	-X $(p).gitVersion=$(K8S_VERSION) -X $(p).gitMajor=1 -X $(p).gitMinor=$(K8S_MINOR))

CI_DEPS += tools

.PHONY: tools kyverno-tools supply-tools e2e-tools pipeline-tools actionlint gitleaks golangci-lint cosign cyclonedx-gomod

tools: $(GOLANGCI_LINT) pipeline-tools $(TERRAFORM_DOCS) kyverno-tools supply-tools e2e-tools ## Build every pinned tool into .tools/bin
kyverno-tools: $(KYVERNO) $(KYVERNO_ADMISSION) $(KYVERNO_BACKGROUND) ## Build the pinned Kyverno CLI, admission and background controllers
supply-tools: $(COSIGN) $(CYCLONEDX_GOMOD) ## Build cosign and cyclonedx-gomod from tools/kyverno
e2e-tools: $(ETCD) $(K8S_BINS) $(ADDON_BINS) $(PAUSE) $(KYVERNO_INIT) $(KYVERNO_REPORTS) node-packages ## Build the local cluster's programs, install its node runtime
pipeline-tools: $(ACTIONLINT) $(GITLEAKS) shellcheck ## Build actionlint and gitleaks, install shellcheck
golangci-lint: $(GOLANGCI_LINT)
actionlint: $(ACTIONLINT)
gitleaks: $(GITLEAKS)
cosign: $(COSIGN)
cyclonedx-gomod: $(CYCLONEDX_GOMOD)

# go_tool: build package $(3) of module tools/$(1) into $@, saying what and how long it takes cold
# ($(2)), with extra -ldflags $(4); the time taken is kept in $@.build-seconds. Commands are
# separated by ";" (not "&&") so that the recipe shell's -e stops at a failed build.
define go_tool
	@mkdir -p $(TOOLS_BIN)
	@echo "building $(notdir $@) from tools/$(1) (cold: $(2))"
	@start=$$(date +%s); cd $(ROOT)/tools/$(1); \
	$(GO) build -trimpath -ldflags "-s -w $(4)" -o $@.tmp $(3); mv $@.tmp $@; \
	echo "$$(( $$(date +%s) - start ))" > $@.build-seconds; echo "built $@ in $$(cat $@.build-seconds) s"
endef

$(GOLANGCI_LINT): $(call tools_mod,golangci-lint)
	$(call go_tool,golangci-lint,about 3-5 min,github.com/golangci/golangci-lint/v2/cmd/golangci-lint)

$(ACTIONLINT): $(call tools_mod,actionlint)
	$(call go_tool,actionlint,about 1 min,github.com/rhysd/actionlint/cmd/actionlint)

$(GITLEAKS): $(call tools_mod,gitleaks)
	$(call go_tool,gitleaks,about 1-3 min,github.com/zricethezav/gitleaks/v8,-X github.com/zricethezav/gitleaks/v8/version.Version=$(GITLEAKS_VER))

$(TERRAFORM_DOCS): $(call tools_mod,actionlint)
	$(call go_tool,actionlint,about 1-3 min,github.com/terraform-docs/terraform-docs)

# The Kyverno builds one at a time (order-only prerequisites chain them): each peaks at GiBs.
$(KYVERNO): $(call tools_mod,kyverno)
	$(call go_tool,kyverno,about 10 min and 3.5 GiB,github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno)

$(KYVERNO_ADMISSION): $(call tools_mod,kyverno) | $(KYVERNO)
	$(call go_tool,kyverno,about 2 min after the CLI,github.com/kyverno/kyverno/cmd/kyverno)

$(KYVERNO_BACKGROUND): $(call tools_mod,kyverno) | $(KYVERNO_ADMISSION)
	$(call go_tool,kyverno,about 1 min after the others,github.com/kyverno/kyverno/cmd/background-controller)

$(KYVERNO_INIT): $(call tools_mod,kyverno) | $(KYVERNO_BACKGROUND)
	$(call go_tool,kyverno,about 1 min after the others,github.com/kyverno/kyverno/cmd/kyverno-init)

$(KYVERNO_REPORTS): $(call tools_mod,kyverno) | $(KYVERNO_INIT)
	$(call go_tool,kyverno,1-3 min after the others; up to 3 GiB at link,github.com/kyverno/kyverno/cmd/reports-controller)

# After the Kyverno CLI, whose build compiles most of cosign's packages already.
$(COSIGN): $(call tools_mod,kyverno) | $(KYVERNO)
	$(call go_tool,kyverno,about 6 min alone; 1-2 min after the Kyverno builds,github.com/sigstore/cosign/v3/cmd/cosign,-X sigs.k8s.io/release-utils/version.gitVersion=$(COSIGN_VERSION))

$(CYCLONEDX_GOMOD): $(call tools_mod,kyverno)
	$(call go_tool,kyverno,about 1 min,github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod)

$(ETCD): $(call tools_mod,etcd)
	$(call go_tool,etcd,about 1.5-3 min,go.etcd.io/etcd/server/v3)

# One go build for the five (a grouped target: one run makes them all).
$(K8S_BINS) &: $(call tools_mod,kubernetes)
	@mkdir -p $(TOOLS_BIN)/.k8s-build
	@echo "building $(K8S_COMPONENTS) $(K8S_VERSION) from tools/kubernetes (cold: 15-30 min and up to 3 GB; kube-apiserver alone 7-20 min)"
	@start=$$(date +%s); cd $(ROOT)/tools/kubernetes; \
	$(GO) build -ldflags "-s -w $(K8S_VERSION_LDFLAGS)" -o $(TOOLS_BIN)/.k8s-build/ \
		$(addprefix k8s.io/kubernetes/cmd/,$(K8S_COMPONENTS)); \
	for b in $(K8S_COMPONENTS); do mv $(TOOLS_BIN)/.k8s-build/$$b $(TOOLS_BIN)/$$b; done; \
	secs=$$(( $$(date +%s) - start )); for b in $(K8S_COMPONENTS); do echo $$secs > $(TOOLS_BIN)/$$b.build-seconds; done; \
	echo "built $(K8S_COMPONENTS) in $$secs s"

$(ADDON_BINS) &: $(call tools_mod,addons) $(ROOT)/tools/addons/coredns/main.go
	@mkdir -p $(TOOLS_BIN)/.addons-build
	@echo "building CoreDNS and kube-router from tools/addons (cold: 5-14 min)"
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

# go_fmt_vet: in folder $(1), gofmt -l on $(2) (default: everything) finds nothing and go vet on
# the packages $(3) (default ./...) passes. One macro for every area's lint.
define go_fmt_vet
	@cd $(1) && out=$$(gofmt -l $(or $(2),.)) && { [ -z "$$out" ] || { echo "gofmt needed in $(1): $$out" >&2; exit 1; }; }
	@cd $(1) && $(GO) vet $(or $(3),./...)
endef
