# The front door. `make run` and `make test` are the two commands; the rest are their pieces.
#
# Each area of the repository adds its own targets in mk/<area>.mk and registers them in the
# lists below (TEST_TARGETS, LINT_TARGETS, CI_DEPS, CLEAN_DIRS), so `make test` always runs every
# test of the repository and `.ci/run` installs what they need.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

ROOT      := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
# Tools built from the pinned modules in tools/ land here (git-ignored, reused across runs).
TOOLS_BIN := $(ROOT)/.tools/bin
# Scratch state for local runs: throwaway PostgreSQL clusters, demo clusters.
RUN_DIR   := $(ROOT)/.run
GO        ?= go
export PATH := $(TOOLS_BIN):$(PATH)

# Registries filled by mk/*.mk.
TEST_TARGETS :=
LINT_TARGETS :=
CI_DEPS      :=
CLEAN_DIRS   := $(RUN_DIR) $(ROOT)/bin

# The tools first: the area files use their paths as prerequisites.
include $(ROOT)/mk/tools.mk
include $(filter-out $(ROOT)/mk/tools.mk,$(sort $(wildcard $(ROOT)/mk/*.mk)))

.PHONY: help test lint ci-deps clean
help: ## List the targets, by area (the first line of each mk/ file names its area)
	@for f in $(MAKEFILE_LIST); do \
	  grep -qE '^[a-zA-Z0-9_.-]+:.*## ' $$f || continue; \
	  printf '\n%s\n' "$$(head -1 $$f | sed 's/^# *//')"; \
	  grep -hE '^[a-zA-Z0-9_.-]+:.*## ' $$f | awk -F':.*## ' '{printf "  %-22s %s\n", $$1, $$2}'; \
	done

test: $(TEST_TARGETS) ## Every test of the repository
	@echo "make test: all of $(TEST_TARGETS) passed"

lint: $(LINT_TARGETS) ## Every linter

ci-deps: $(CI_DEPS) ## Install or build what the tests need on a fresh machine

clean: ## Remove build outputs and local run state (keeps built tools)
	rm -rf $(CLEAN_DIRS)
