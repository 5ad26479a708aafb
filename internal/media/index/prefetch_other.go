// SPDX-License-Identifier: Apache-2.0

//go:build !amd64

package index

import "unsafe"

// prefetch is a no-op where no assembly version exists; see
// prefetch_amd64.go.
func prefetch(p unsafe.Pointer, n uintptr) {}
