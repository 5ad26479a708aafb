// SPDX-License-Identifier: Apache-2.0

// Package video hashes, compares and describes video files with the
// external ffmpeg and ffprobe programs (Debian package ffmpeg).
//
// # Hashing (vPDQ)
//
// [Hash] samples a video at a fixed rate (1 frame per second by default,
// as python-threatexchange's vPDQ signal does), has ffmpeg shrink each frame
// so that no axis exceeds 512 pixels with an area filter, and computes the
// PDQ hash of every sampled frame with package pdq. Every frame is kept,
// with its quality; [Compare] skips the ones below [pdq.MinQuality], as the
// vPDQ matcher does. Frames are streamed from ffmpeg one at a time, so the
// memory used does not grow with the video's length.
//
// [Compare] implements the vPDQ brute-force rule and returns both
// percentages rather than a boolean: a high query share with a low compared
// share says the query is an excerpt of the compared video, which is what
// first-appearance analysis needs.
//
// [ParseReference] reads the per-frame text files of Meta's vPDQ reference
// ("FrameNumber,Quality,PDQHash,Timestamp").
//
// # Metadata and keyframes
//
// [Probe] returns the ffprobe JSON verbatim (to be stored beside the file's
// SHA-256 with [Version]) and a [Metadata] digest of the fields investigators
// read: container brands, creation time, encoder, Apple and Android make,
// model and ISO 6709 location, rotation, frame rates.
//
// [Keyframes] writes one PNG per scene change, for reverse image search.
//
// # Processes
//
// Every ffmpeg and ffprobe run reads nothing from stdin, runs in its own
// process group (killed whole when the context ends), and has its stderr
// kept up to a bound; errors quote the tool's first stderr line. Inputs are
// named "file:<path>" with only the file protocol allowed, so no file name
// or playlist inside a file can make ffmpeg open a network URL. ffmpeg and
// ffprobe are looked up in PATH. Nothing here logs.
//
// # Orientation
//
// ffmpeg applies the container's display rotation by default, so frames are
// hashed as a viewer sees them; platforms that re-encode usually bake the
// rotation into the pixels, and hashing the displayed picture keeps those
// copies matching. Meta's C++ vPDQ decodes the stored (unrotated) picture;
// set [Options].NoAutorotate to hash exactly that when comparing with hashes
// made by the reference tools. The two agree for files with no rotation.
package video
