// SPDX-License-Identifier: Apache-2.0

//go:build !unix

package video

import "errors"

func mkfifo(string) error { return errors.New("no FIFOs on this system") }
