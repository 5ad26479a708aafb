// SPDX-License-Identifier: Apache-2.0

// Package match finds re-uploads of a photograph (or a video frame) that a
// plain PDQ comparison misses, while keeping every stored plain PDQ hash
// interoperable with other PDQ users.
//
// # Why plain PDQ is not enough
//
// PDQ maps the whole picture to 64×64 cells, so it survives resizing,
// recompression, greyscale, brightness changes and (through its eight
// dihedral variants) mirroring and rotation. It does not survive changes
// of the picture's extent: black bars added to fit 16:9, a screenshot that
// puts a status bar, a channel name, caption text and buttons around the
// picture, or a crop of the edges. Every cell then samples a different
// part of the scene and most bits change.
//
// # What is hashed
//
// [Stored] keeps, for an original, its plain PDQ hash first (kind "pdq",
// the hash other PDQ users compute and the one to share), then, if the
// original has uniform borders, the hash of the picture without them
// ("trimmed").
//
// [Query] hashes a suspected copy several ways, each with its eight
// dihedral variants: the whole picture ("pdq"), the picture with uniform
// borders trimmed ("trimmed"), and the content box ("content", "inner"):
// the largest block of rows and columns that is not interface. Interface
// rows and columns are those where most pixels have the frame colour, the
// colour that dominates the outer edge of the image; text, icons and
// buttons on the frame leave most of a row in that colour, while a
// photograph's rows do not. "inner" also peels bars of another colour
// (a status bar, a coloured header with text) from the edges. A uniform
// band inside the photograph, such as a clear sky, is not cut out unless
// it has the frame colour itself.
//
// # Crops are not covered
//
// PDQ is very sensitive to where the picture's edges are: moving a 90 %
// window by 1 % of the width changes 26 bits on average (42 at worst) on
// the evaluation photographs, and cutting 1 % from each side about as
// many. A copy with 10 % cut off at random places would need stored or
// query hashes on a grid finer than 1 % in position and scale, hundreds
// of hashes per picture, so this package does not try; finding crops needs
// alignment of the pixels (or local features) against candidates found by
// other means.
//
// # Matching
//
// [Compare] accepts a pairing of a query hash and a stored hash when both
// have quality at least [pdq.MinQuality] and their distance is within the
// threshold for that pair of kinds, [pdq.MatchThreshold] (31) for all of
// them at present: derived hashes are extra chances for two different
// photographs to meet, but on the evaluation set (testdata/evalset.tsv,
// real photographs from Debian packages) the closest wrong pairing was 92
// bits apart, against at most 30 for true ones; see TestEvaluation.
//
// Derived hashes are groundtruth's own: other PDQ users do not compute
// them, so only the "pdq" hash should be exchanged.
package match
