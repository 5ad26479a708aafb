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
// # Crops: the second stage
//
// PDQ is very sensitive to where the picture's edges are: moving a 90 %
// window by 1 % of the width changes 26 bits on average (42 at worst) on
// the evaluation photographs, so no handful of stored hashes covers a
// copy with 10 % cut off at random places. Crops are found by aligning
// pixels instead, in a stage a caller runs only for a query no hash
// matched:
//
//   - For every original, keep its [Thumbnail]: the upright picture with
//     uniform borders trimmed, at most 64 pixels a side, as luma; about
//     3 KB encoded, 4 KB at most ([Thumb.MarshalBinary]).
//   - Prepare the query once with [NewCropQuery] and score every stored
//     thumbnail ([CropQuery.Score], or [CropQuery.Candidates] for the best
//     [CropTopK] above [CropFloor]). A score is the best normalised
//     cross-correlation between the detail (the picture less a blurred
//     copy) of the original's centre, which every crop keeping
//     [MinCropShare] of each side contains, and the query under some 400
//     crop hypotheses (window sizes in steps of 5 %, positions in steps of
//     2 %), compared at 8×8 cells and the best three again at 16×16. It
//     costs 22 to 36 µs per stored thumbnail on one core, plus a few
//     milliseconds per query and thumbnail size.
//   - Verify each candidate against the decoded original with
//     [CropQuery.Verify]: it searches every window keeping 75 % to all of
//     each side, at any position, the query's aspect ratio stretched by at
//     most 3 %, plain and mirrored, exhaustively at 64 pixels and then by
//     a local search at 128 and 256 pixels to a quarter of a pixel, each
//     time by normalised cross-correlation (so brightness and contrast
//     changes do not matter, nor the query's resolution). It cuts the best
//     window out of the original and accepts only if that window's plain
//     PDQ hash is within [pdq.MatchThreshold] of the query's with both of
//     quality [pdq.MinQuality] or more: every crop match is backed by a
//     PDQ distance, like every other match. It takes about 50 ms for an
//     original of 1024×683 pixels, of which reducing the original is a
//     third; larger originals add their reduction (about 150 ms for 12
//     megapixels) and their decoding.
//
// On the evaluation set, verified crop windows of the right original were
// at most 30 bits from the query, and with the PDQ gate removed the
// windows the stage aligned on wrong originals were at least 108 bits
// away. Limits: crops keeping less than 75 % of a side; crops combined
// with rotation, perspective or a stretch of more than 3 %; crops inside
// a screenshot frame (only uniform borders are trimmed from the query);
// mirrored crops, which Verify finds but the pre-filter does not score,
// so they are never candidates; pictures whose trimmable borders differ
// between original and copy, such as a dark sky that trimming takes for
// a border (the one crop of the evaluation set missed); and pictures with
// little detail. The pre-filter's ranking was measured on 73 originals
// only (unrelated ones scored at most 0.56, true crops at least 0.73 but
// for that one miss); among many thousands, unrelated pictures may
// outrank a true original more often.
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
