//go:build tools

// Package tools pins the Kubernetes control-plane commands the sandbox runs (kube-apiserver,
// kube-controller-manager, kube-scheduler) so that `go build k8s.io/kubernetes/cmd/<name>` resolves
// through this module's go.mod and go.sum, all at the same Kubernetes version.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
