// SPDX-License-Identifier: Apache-2.0

// Package demo holds the built-in case: the reporting of October 2020 on
// the war in Nagorno-Karabakh (the Hadrut execution videos, the Ganja
// missile strike, cluster munitions in Stepanakert and the running civilian
// tallies), modelled as records in the case-file format. Its evidence items
// are generated placeholders, labelled as such, since the media bytes are
// not held.
package demo

import _ "embed"

//go:embed nagorno-karabakh-2020.yaml
var caseFile []byte

// Name is the name under which the built-in case file is reported.
const Name = "builtin:nagorno-karabakh-2020.yaml"

// CaseFile returns the built-in case file.
func CaseFile() []byte { return caseFile }
