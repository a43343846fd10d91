//go:build tools

// Package tools pins the Kyverno binaries built by mk/tools.mk.
package tools

import (
	_ "github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno"
	_ "github.com/kyverno/kyverno/cmd/kyverno"
)
