// SPDX-License-Identifier: Apache-2.0

//go:build !unix

package video

import "os/exec"

// setProcessGroup keeps exec's default cancellation (kill the process)
// where process groups do not exist.
func setProcessGroup(cmd *exec.Cmd) {}
