//go:build tools

// Package tools pins kube-router, built as is (mk/tools.mk); CoreDNS is built from ./coredns.
package tools

import _ "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"
