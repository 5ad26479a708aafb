// SPDX-License-Identifier: Apache-2.0

// Package photo decodes still images posted online (JPEG, PNG, GIF and
// WebP) so that they can be hashed, and reads their EXIF metadata for
// investigators.
//
// Everything here treats its input as hostile: a photograph collected as
// evidence may have been crafted to crash or exhaust the server that
// preserves it.
//
// # Decoding
//
// [Decode] recognises the format from the leading bytes, never from a file
// name or a declared media type; a PNG uploaded as "photo.jpg" is decoded
// as PNG and reported as "png" in [Info.Format]. Comparing that with the
// name or type the file came with is the caller's job: the mismatch is
// itself worth recording in the custody record, and this package never
// sees the name.
//
// Before any pixel is decoded the dimensions are read from the header and
// refused with [ErrTooLarge] when they exceed the caller's pixel budget, so
// a small file that claims to be 50 000 × 50 000 pixels costs a few
// hundred bytes of work, not gigabytes of memory.
//
// [DecodeReduced] decodes only what analysis needs: a copy of at most
// [WorkSide] pixels a side, reduced by [Reduce]'s area filter as the
// pixels arrive. A non-interlaced PNG is decoded a row at a time, so its
// cost does not depend on the size it declares; the other formats are
// decoded whole by Go's decoders and refused when that would take more
// than [MaxDecodeBytes].
//
// The EXIF Orientation tag (1 to 8) is then applied, so the returned image
// is upright, the way a browser shows it: perceptual hashes of a photo and
// of its re-encoded, already-rotated copy then agree. [Info] keeps the
// stored width, height and orientation.
//
// # EXIF
//
// [ReadEXIF] is a small TIFF/IFD reader for the EXIF block of a JPEG (APP1
// "Exif\x00\x00"), a PNG (eXIf chunk), a WebP (EXIF chunk) or a bare TIFF
// header. It follows IFD0, the Exif IFD and the GPS IFD only, visits every
// IFD at most once, checks every offset and count against the block before
// using it, and never panics. It reports a fixed set of fields that help
// date, place and attribute a picture to a device model; fields that name
// or identify people (Artist, Copyright, CameraOwnerName, serial numbers,
// free-text comments) are deliberately not read, see [EXIF].
//
// EXIF is written by the device or by whoever edited the file last, and is
// trivially forged: it is a claim to verify, not a fact.
//
// # References
//
//   - [TIFF 6.0], sections 2 (structure) and 8 (baseline fields).
//   - [CIPA DC-008-2023] (Exif 3.0), 4.6 (tags) and 4.6.6 (GPS).
//   - [PNG eXIf] and the [WebP container] for where the block lives.
//
// [TIFF 6.0]: https://www.itu.int/itudoc/itu-t/com16/tiff-fx/docs/tiff6.pdf
// [CIPA DC-008-2023]: https://www.cipa.jp/std/documents/download_e.html?DC-008-Translation-2023-E
// [PNG eXIf]: https://www.w3.org/TR/png-3/#eXIf
// [WebP container]: https://developers.google.com/speed/webp/docs/riff_container
package photo
