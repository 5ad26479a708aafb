// SPDX-License-Identifier: Apache-2.0

package index

import "unsafe"

// prefetch asks the CPU to start loading the cache lines of the n bytes
// at p, without waiting for them: unlike a plain load, a prefetch retires
// at once, so many misses can be outstanding while the caller works on
// data it already has. It has no effect on results.
//
//go:noescape
func prefetch(p unsafe.Pointer, n uintptr)
