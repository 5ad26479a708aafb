// SPDX-License-Identifier: Apache-2.0

package evidence

import (
	"bytes"
	"net/http"
)

// SniffLen is how many leading bytes Sniff looks at.
const SniffLen = 512

// Sniff returns the media type of an original from its first bytes, never
// from its name: a video renamed .jpg is still a video. It extends the
// WHATWG sniffing of net/http with the containers investigators meet most
// (ISO BMFF video and HEIC photos, Matroska, WARC).
func Sniff(head []byte) string {
	if len(head) > SniffLen {
		head = head[:SniffLen]
	}
	if len(head) >= 12 && string(head[4:8]) == "ftyp" {
		switch brand := string(head[8:12]); brand {
		case "qt  ":
			return "video/quicktime"
		case "heic", "heix", "heim", "heis", "mif1", "msf1":
			return "image/heic"
		case "avif", "avis":
			return "image/avif"
		case "M4A ", "M4B ":
			return "audio/mp4"
		case "3gp4", "3gp5", "3gp6", "3g2a":
			return "video/3gpp"
		default:
			return "video/mp4"
		}
	}
	if bytes.HasPrefix(head, []byte{0x1A, 0x45, 0xDF, 0xA3}) {
		if bytes.Contains(head, []byte("webm")) {
			return "video/webm"
		}
		return "video/x-matroska"
	}
	if bytes.HasPrefix(head, []byte("WARC/")) {
		return "application/warc"
	}
	if bytes.HasPrefix(head, []byte("II*\x00")) || bytes.HasPrefix(head, []byte("MM\x00*")) {
		return "image/tiff"
	}
	return http.DetectContentType(head)
}
