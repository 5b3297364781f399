//go:build tools

// Package tools pins the etcd server so that `go build go.etcd.io/etcd/server/v3`
// resolves through this module's go.mod and go.sum.
package tools

import _ "go.etcd.io/etcd/server/v3"
