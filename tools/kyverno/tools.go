//go:build tools

// Package tools pins the binaries built from this module (mk/tools.mk): the Kyverno CLI, admission and
// background controllers, and the supply-chain tools of `make release`: cosign, the same version Kyverno verifies signatures with, and
// cyclonedx-gomod, the SBOM generator for Go binaries. They share one module because cosign is
// already in Kyverno's graph and neither tool moves a version Kyverno selects.
package tools

import (
	_ "github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod"
	_ "github.com/kyverno/kyverno/cmd/background-controller"
	_ "github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno"
	_ "github.com/kyverno/kyverno/cmd/kyverno"
	_ "github.com/sigstore/cosign/v3/cmd/cosign"
)
