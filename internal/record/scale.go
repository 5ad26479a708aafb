// SPDX-License-Identifier: Apache-2.0

package record

// Likelihood is a code on the seven-level scale of ICD 203 §6.b(2). Words
// for it come only from [Likelihood.Words] and [Likelihood.PHIA]; free text
// never stands in for a likelihood.
type Likelihood string

// The seven likelihood codes, from least to most likely.
const (
	AlmostNoChance Likelihood = "almost_no_chance"
	VeryUnlikely   Likelihood = "very_unlikely"
	Unlikely       Likelihood = "unlikely"
	RoughlyEven    Likelihood = "roughly_even"
	Likely         Likelihood = "likely"
	VeryLikely     Likelihood = "very_likely"
	AlmostCertain  Likelihood = "almost_certain"
)

// Likelihoods lists the scale in order.
var Likelihoods = []Likelihood{AlmostNoChance, VeryUnlikely, Unlikely, RoughlyEven, Likely, VeryLikely, AlmostCertain}

var likelihoodInfo = map[Likelihood]struct {
	words   string
	phia    string
	low, hi int // band in percent, ICD 203
}{
	AlmostNoChance: {"almost no chance", "remote chance", 1, 5},
	VeryUnlikely:   {"very unlikely", "highly unlikely", 5, 20},
	Unlikely:       {"unlikely", "unlikely", 20, 45},
	RoughlyEven:    {"roughly even chance", "realistic possibility", 45, 55},
	Likely:         {"likely", "likely", 55, 80},
	VeryLikely:     {"very likely", "highly likely", 80, 95},
	AlmostCertain:  {"almost certain", "almost certain", 95, 99},
}

// Words returns the ICD 203 wording of l, or "" for an unknown code.
func (l Likelihood) Words() string { return likelihoodInfo[l].words }

// PHIA returns the UK PHIA yardstick label of l, a display option.
func (l Likelihood) PHIA() string { return likelihoodInfo[l].phia }

// Band returns the ICD 203 probability band of l in percent.
func (l Likelihood) Band() (low, high int) {
	i := likelihoodInfo[l]
	return i.low, i.hi
}

// Confidence is analytic confidence, a separate judgement from likelihood.
type Confidence string

// Confidence levels.
const (
	ConfidenceLow      Confidence = "low"
	ConfidenceModerate Confidence = "moderate"
	ConfidenceHigh     Confidence = "high"
)

var confidences = []Confidence{ConfidenceLow, ConfidenceModerate, ConfidenceHigh}

// Reliability is the Admiralty (STANAG 2511) grade of a source, A to F.
type Reliability string

var reliabilities = []Reliability{"A", "B", "C", "D", "E", "F"}

// Credibility is the Admiralty grade of one item of information, 1 to 6.
type Credibility string

var credibilities = []Credibility{"1", "2", "3", "4", "5", "6"}

// Verification is the state of a check: a process state, not a probability.
type Verification string

var verifications = []Verification{"unverified", "in_progress", "verified", "partially_verified", "could_not_verify", "disproven"}

// Status is the civilian or combatant status of people harmed, with the
// deferring category "unknown".
type Status string

// Statuses of people harmed.
const (
	Civilian  Status = "civilian"
	Combatant Status = "combatant"
	Unknown   Status = "unknown"
)

var statuses = []Status{Civilian, Combatant, Unknown}
