//go:build tools

// Package tools pins etcd, the key-value store behind the local control plane of the
// end-to-end tests (see mk/tools.mk). `go build go.etcd.io/etcd/server/v3` is etcd's main.
package tools

import _ "go.etcd.io/etcd/server/v3"
