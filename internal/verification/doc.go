// SPDX-License-Identifier: Apache-2.0

// Package verification reasons over a case's records the way a careful
// verification desk does, and shows its reasoning: which findings
// corroborate each other, which propositions are contested, how an incident
// is graded (docs/grading.md), what the casualty records add up to without
// double counting, which legal rules the facts may engage and which
// treaties bound whom on the day, and a neutral summary in calibrated,
// attributed language.
//
// It reads records only; it never writes them, and it holds no SQL or HTTP.
// Every output names the records it rests on.
package verification
