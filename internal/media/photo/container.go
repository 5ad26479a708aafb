// SPDX-License-Identifier: Apache-2.0

package photo

import (
	"bytes"
	"encoding/binary"
)

// Format names, as reported in [Info.Format].
const (
	FormatJPEG = "jpeg"
	FormatPNG  = "png"
	FormatGIF  = "gif"
	FormatWebP = "webp"
)

var (
	pngSignature = []byte("\x89PNG\r\n\x1a\n")
	tiffLE       = []byte("II*\x00")
	tiffBE       = []byte("MM\x00*")
	exifPrefix   = []byte("Exif\x00")
)

// Sniff returns the image format of data judged from its leading bytes
// (FormatJPEG, FormatPNG, FormatGIF or FormatWebP), or "" if it is none of
// them. It reads at most the first 12 bytes.
func Sniff(data []byte) string {
	switch {
	case len(data) >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF:
		return FormatJPEG
	case bytes.HasPrefix(data, pngSignature):
		return FormatPNG
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return FormatGIF
	case len(data) >= 12 && string(data[0:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return FormatWebP
	}
	return ""
}

// exifBlock returns the TIFF-structured EXIF block embedded in data, which
// is in the given format ("tiff" for a bare TIFF header), or nil if there
// is none. It only walks the container's segment or chunk lengths, so it
// costs time proportional to the number of segments, not to the file size.
// Invariant: the result is a sub-slice of data (never a copy).
func exifBlock(data []byte, format string) []byte {
	switch format {
	case FormatJPEG:
		return jpegEXIF(data)
	case FormatPNG:
		return pngEXIF(data)
	case FormatWebP:
		return webpEXIF(data)
	case "tiff":
		return data
	}
	return nil
}

// jpegEXIF walks the marker segments of a JPEG from SOI up to the first
// SOS (start of scan; EXIF must come before it) and returns the payload of
// the first APP1 segment that starts with "Exif\0", minus that 6-byte
// header. A segment is FF, a marker byte, then a big-endian length that
// counts itself but not the marker (ITU T.81 B.1.1.4).
func jpegEXIF(data []byte) []byte {
	i := 2 // after SOI
	for i+4 <= len(data) {
		if data[i] != 0xFF {
			return nil
		}
		marker := data[i+1]
		switch {
		case marker == 0xFF: // fill byte before a marker
			i++
			continue
		case marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7):
			i += 2 // standalone markers carry no length
			continue
		case marker == 0xDA || marker == 0xD9: // SOS, EOI
			return nil
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return nil
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xE1 && len(seg) >= 6 && bytes.HasPrefix(seg, exifPrefix) {
			// The sixth byte is 0 by the standard; a few writers put
			// 0xFF there, and the TIFF header after it is what counts.
			return seg[6:]
		}
		i += 2 + n
	}
	return nil
}

// pngEXIF returns the data of the first eXIf chunk. PNG chunks are a
// big-endian length, a 4-byte type, the data and a CRC (PNG 3, 5.3). The
// CRC is not checked here: the decoder checks the chunks it needs, and a
// damaged eXIf chunk at worst yields damaged metadata, which ReadEXIF
// reports.
func pngEXIF(data []byte) []byte {
	i := len(pngSignature)
	for i+8 <= len(data) {
		n := uint64(binary.BigEndian.Uint32(data[i:]))
		typ := string(data[i+4 : i+8])
		end := uint64(i) + 8 + n
		if end > uint64(len(data)) {
			return nil
		}
		switch typ {
		case "eXIf":
			block := data[i+8 : end]
			// The chunk holds the TIFF block directly; tolerate writers
			// that copied the JPEG "Exif\0\0" header along with it.
			if bytes.HasPrefix(block, exifPrefix) && len(block) >= 6 {
				block = block[6:]
			}
			return block
		case "IEND":
			return nil
		}
		i = int(end) + 4 // skip the CRC
	}
	return nil
}

// webpEXIF returns the data of the EXIF chunk of a RIFF WebP file. RIFF
// chunks are a FourCC, a little-endian size and the data padded to an even
// length.
func webpEXIF(data []byte) []byte {
	i := 12 // "RIFF", size, "WEBP"
	for i+8 <= len(data) {
		typ := string(data[i : i+4])
		n := uint64(binary.LittleEndian.Uint32(data[i+4:]))
		end := uint64(i) + 8 + n
		if end > uint64(len(data)) {
			return nil
		}
		if typ == "EXIF" {
			block := data[i+8 : end]
			if bytes.HasPrefix(block, exifPrefix) && len(block) >= 6 {
				block = block[6:]
			}
			return block
		}
		i = int(end + n&1)
	}
	return nil
}
