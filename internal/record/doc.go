// SPDX-License-Identifier: Apache-2.0

// Package record holds groundtruth's case records: incidents, places, actors,
// evidence items, assessments, claims, investigations, casualties, victims,
// tallies, weapons, treaties and treaty memberships.
//
// Records are plain Go values with validation. They know nothing of SQL,
// HTTP or YAML files; the store persists them and the casefile package reads
// them from YAML.
//
// # Identity
//
// Every record has a kind and a slug. The pair is stable: loading the same
// case file twice finds the same records, and other records refer to a record
// by its slug. Slugs are lower-case ASCII letters, digits and hyphens.
//
// # Principles carried by the types
//
//   - Everything is a claim by someone: [Claim] names who asserted what and
//     when; the platform's own judgements are [Assessment] records that name
//     the organisation that made them.
//   - "Not reported" is not zero: counts are [Count] values whose fields are
//     nil when nothing was reported.
//   - Running totals are [Tally] records and never feed incident counts.
//   - Likelihood, confidence, source reliability, information credibility
//     and verification status are five separate fields with closed
//     vocabularies.
//   - A place is a gazetteer entry with names as each side uses them.
//   - Personal data of victims (their names and private notes) is held in
//     fields that public views must drop; see [Victim.Public].
package record
