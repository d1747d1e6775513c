//go:build tools

// Package tools pins the Temporal CLI (dev server) this project builds from the Go
// module proxy. go.sum carries the checksums that verify every module of the build.
package tools

import _ "github.com/temporalio/cli/cmd/temporal"
