//go:build tools

// Package tools pins the Kubernetes components of the local cluster of the end-to-end tests.
// Built with version ldflags (see mk/tools.mk) so that kubectl can parse the server version and
// the kubelet reports the same version as the API server.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
