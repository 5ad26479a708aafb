// SPDX-License-Identifier: Apache-2.0

//go:build race

package index

// raceEnabled is true when the race detector is on; TestPlanted then
// checks fewer queries.
const raceEnabled = true
