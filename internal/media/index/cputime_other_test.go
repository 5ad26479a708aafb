// SPDX-License-Identifier: Apache-2.0

//go:build !unix

package index

import "time"

// processCPU is not measured outside Unix; benchmarks then report zero.
func processCPU() time.Duration { return 0 }
