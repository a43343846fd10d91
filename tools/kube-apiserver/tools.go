//go:build tools

// Package tools pins kube-apiserver for the local control plane of the end-to-end tests.
// Built with version ldflags (see mk/e2e.mk) so that kubectl can parse the server version.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
