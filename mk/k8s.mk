# Kubernetes manifests (k8s/): the offline manifest test and rendering helpers.
#
#   make test-manifests     render k8s/base and every overlay with krusty (the engine behind
#                           `kubectl kustomize`) and check every invariant on every object;
#                           each invariant is also shown firing on a bad fixture
#   make render-kind        print an overlay's rendered manifests (also render-staging,
#   make render-staging     render-production), from the same engine the test uses
#   make render-manifests   write every overlay to $(K8S_RENDERED)/<overlay>.yaml

MANIFESTS_DIR := $(ROOT)/test/manifests
K8S_OVERLAYS  := kind staging production
K8S_RENDERED  := $(RUN_DIR)/k8s

TEST_TARGETS += test-manifests
LINT_TARGETS += lint-manifests

.PHONY: test-manifests lint-manifests render-manifests $(addprefix render-,$(K8S_OVERLAYS))

test-manifests: ## Render every k8s/ overlay with krusty and check the manifest invariants (offline)
	@echo "test-manifests: rendering k8s/base and overlays $(K8S_OVERLAYS) with krusty, checking invariants"
	cd $(MANIFESTS_DIR) && $(GO) test -count=1 ./...

lint-manifests: ## gofmt and go vet on the manifest test module
	$(call go_fmt_vet,$(MANIFESTS_DIR))

render-kind: ## Print the rendered kind overlay (the local demo)
render-staging: ## Print the rendered staging overlay
render-production: ## Print the rendered production overlay
$(addprefix render-,$(K8S_OVERLAYS)):
	@cd $(MANIFESTS_DIR) && $(GO) run ./cmd/render $(ROOT)/k8s/overlays/$(@:render-%=%)

render-manifests: ## Write every rendered overlay to .run/k8s/<overlay>.yaml
	@mkdir -p $(K8S_RENDERED)
	@cd $(MANIFESTS_DIR) && $(GO) build -o $(K8S_RENDERED)/render ./cmd/render
	@for o in $(K8S_OVERLAYS); do \
		$(K8S_RENDERED)/render $(ROOT)/k8s/overlays/$$o > $(K8S_RENDERED)/$$o.yaml; \
		echo "rendered k8s/overlays/$$o -> $(K8S_RENDERED)/$$o.yaml"; \
	done
