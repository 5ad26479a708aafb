// SPDX-License-Identifier: Apache-2.0

//go:build unix

package index

import (
	"syscall"
	"time"
)

// processCPU returns the user and system CPU time the process has used,
// so that benchmarks can report cost per query independent of how much
// of the machine other processes take.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
