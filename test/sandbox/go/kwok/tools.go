//go:build tools

// Package tools pins kwok (Kubernetes WithOut Kubelet) so that `go build sigs.k8s.io/kwok/cmd/kwok`
// resolves through this module's go.mod and go.sum.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
