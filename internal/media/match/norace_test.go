// SPDX-License-Identifier: Apache-2.0

//go:build !race

package match

// raceEnabled is true when the race detector is on.
const raceEnabled = false
