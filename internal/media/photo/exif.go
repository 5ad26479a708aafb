// SPDX-License-Identifier: Apache-2.0

package photo

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// EXIF is the metadata ReadEXIF extracts. Strings are as written by the
// device, trimmed of NULs and spaces and cut to maxString bytes; invalid
// UTF-8 is kept as is (it is evidence) and must be escaped by whoever
// displays it.
//
// Artist, Copyright, CameraOwnerName, body and lens serial numbers,
// ImageUniqueID, UserComment and maker notes are not read: they name or
// single out the person who took the picture, who may be a witness at
// risk, and investigators need none of them to date or place an image.
// Whoever needs them must read the preserved original deliberately.
type EXIF struct {
	Make             string // camera maker, e.g. "Canon"
	Model            string // camera model, e.g. "Canon EOS REBEL T4i"
	Software         string // firmware or the last program that wrote the file
	LensModel        string
	ImageDescription string // a caption; on phones usually empty

	// DateTimeOriginal is the capture time as written, "2006:01:02
	// 15:04:05", in the camera's clock and zone; OffsetTimeOriginal is that
	// zone's offset ("+03:00") when the device recorded it (Exif 2.31+).
	DateTimeOriginal   string
	OffsetTimeOriginal string
	// Taken is DateTimeOriginal in RFC 3339 form ("2006-01-02T15:04:05+03:00",
	// with SubSecTimeOriginal as a fraction) when the offset is known, or
	// "2006-01-02T15:04:05" with no zone when it is not: a zone is never
	// guessed. Empty when DateTimeOriginal is absent or not a valid time.
	Taken string

	// GPS is where the device says it was. It may be the location of a
	// witness: do not log it or publish it without a decision to.
	GPS *GPS

	// Orientation is the raw Orientation tag, 1 to 8; 0 when absent or out
	// of range.
	Orientation int
	// Width and Height are PixelXDimension and PixelYDimension, the size
	// of the image the camera wrote, 0 when absent. An editor that resized
	// the picture may have left them unchanged.
	Width, Height int
	// DigitalZoom is DigitalZoomRatio; 0 when absent or not recorded.
	DigitalZoom float64
	// Flash is the Flash bit field (bit 0: the flash fired), nil when
	// absent.
	Flash *int

	// Tags holds other harmless tags, by their EXIF name, formatted as
	// text: a fixed list of ASCII tags (e.g. DateTime, OffsetTime,
	// LensMake, GPSMapDatum) and camera settings (ExposureTime "1/60",
	// FNumber "2.8", ISOSpeedRatings, FocalLength in mm). Only names in
	// that list appear, so its size is bounded and unknown vendor tags,
	// which may carry personal data, are never copied.
	Tags map[string]string

	// Problems lists, in order, the parts of the block that were damaged
	// and skipped (at most maxProblems entries). A forged or re-written
	// file often shows up here; nil for a well-formed block.
	Problems []string
}

// GPS is a position from the GPS IFD.
type GPS struct {
	// Latitude and Longitude are in decimal degrees, negative south and
	// west (from GPSLatitudeRef and GPSLongitudeRef). The datum is usually
	// WGS 84; Tags["GPSMapDatum"] says otherwise when present.
	Latitude, Longitude float64
	// Altitude is in metres, negative below sea level; nil when absent.
	Altitude *float64
	// Timestamp is GPSDateStamp and GPSTimeStamp as an RFC 3339 time in
	// UTC ("2006-01-02T15:04:05Z"), the satellite clock rather than the
	// camera's; empty unless both are present and valid.
	Timestamp string
}

// Bounds that keep a hostile block cheap. A real camera IFD has at most a
// few hundred entries.
const (
	maxIFDEntries = 1024 // per IFD; more is refused as damage
	maxString     = 1024 // bytes kept of any text value
	maxProblems   = 8
)

// TIFF field types (TIFF 6.0 section 2, plus Exif): the size in bytes of
// one value of each type. Unknown types have size 0 and are skipped.
var typeSize = [...]int{1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}

const (
	typeByte     = 1
	typeASCII    = 2
	typeShort    = 3
	typeLong     = 4
	typeRational = 5
	typeSRat     = 10
)

// Tags read into named fields or needed for structure.
const (
	tagImageDescription = 0x010E
	tagMake             = 0x010F
	tagModel            = 0x0110
	tagOrientation      = 0x0112
	tagSoftware         = 0x0131
	tagExifIFD          = 0x8769
	tagGPSIFD           = 0x8825

	tagDateTimeOriginal   = 0x9003
	tagOffsetTimeOriginal = 0x9011
	tagSubSecTimeOriginal = 0x9291
	tagFlash              = 0x9209
	tagPixelXDimension    = 0xA002
	tagPixelYDimension    = 0xA003
	tagDigitalZoomRatio   = 0xA404
	tagLensModel          = 0xA434

	gpsLatitudeRef  = 0x01
	gpsLatitude     = 0x02
	gpsLongitudeRef = 0x03
	gpsLongitude    = 0x04
	gpsAltitudeRef  = 0x05
	gpsAltitude     = 0x06
	gpsTimeStamp    = 0x07
	gpsMapDatum     = 0x12
	gpsDateStamp    = 0x1D
)

// extraTags is the allowlist for EXIF.Tags, keyed by IFD kind and tag.
// Every entry was checked not to identify a person.
var extraTags = map[ifdKind]map[uint16]string{
	ifd0: {
		0x0132: "DateTime", // last modification, not capture
		0x010D: "DocumentName",
	},
	ifdExif: {
		0x9004: "DateTimeDigitized",
		0x9010: "OffsetTime",
		0x9012: "OffsetTimeDigitized",
		0x9290: "SubSecTime",
		0x9291: "SubSecTimeOriginal",
		0x9292: "SubSecTimeDigitized",
		0xA433: "LensMake",
		0x829A: "ExposureTime",
		0x829D: "FNumber",
		0x8827: "ISOSpeedRatings",
		0x920A: "FocalLength",
		0xA405: "FocalLengthIn35mmFilm",
	},
	ifdGPS: {
		gpsMapDatum: "GPSMapDatum",
	},
}

type ifdKind int

const (
	ifd0 ifdKind = iota
	ifdExif
	ifdGPS
)

func (k ifdKind) String() string {
	return [...]string{"IFD0", "Exif IFD", "GPS IFD"}[k]
}

// ReadEXIF returns the EXIF metadata of a JPEG, PNG, WebP or GIF file, or
// of a bare TIFF-structured EXIF block, or nil and no error when the file
// carries none (GIF never does). The format is sniffed from the bytes.
//
// Damage inside the block is skipped and listed in EXIF.Problems; an error
// is returned only when the block's TIFF header itself is unreadable
// (wrapping ErrCorrupt), for empty input (ErrEmpty) or for an unknown
// format (ErrUnsupported).
func ReadEXIF(data []byte) (*EXIF, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("photo: read exif: %w", ErrEmpty)
	}
	format := Sniff(data)
	if format == "" {
		if !isTIFF(data) {
			return nil, fmt.Errorf("photo: read exif: %w", ErrUnsupported)
		}
		format = "tiff"
	}
	block := exifBlock(data, format)
	if block == nil {
		return nil, nil
	}
	x, err := parseEXIF(block)
	if err != nil {
		return nil, fmt.Errorf("photo: read exif from %s: %w", format, err)
	}
	return x, nil
}

func isTIFF(b []byte) bool {
	return len(b) >= 8 && (string(b[:4]) == string(tiffLE) || string(b[:4]) == string(tiffBE))
}

// tiffReader reads values from one TIFF-structured block. All offsets are
// relative to the block start (the byte order mark), as TIFF requires.
type tiffReader struct {
	b       []byte
	order   binary.ByteOrder
	visited map[uint32]bool // IFD offsets already read: breaks loops
	x       *EXIF

	subsec   string    // SubSecTimeOriginal, for Taken
	gpsParts *gpsParts // nil until a GPS entry is read
}

// entry is one 12-byte IFD entry: tag, type, count, then the value itself
// when it fits in 4 bytes or else its offset.
type entry struct {
	tag, typ uint16
	count    uint32
	val      []byte // count values of typ, bounds-checked; nil if unreadable
}

func (r *tiffReader) problem(format string, args ...any) {
	if len(r.x.Problems) < maxProblems {
		r.x.Problems = append(r.x.Problems, fmt.Sprintf(format, args...))
	}
}

// parseEXIF reads a TIFF-structured EXIF block.
func parseEXIF(b []byte) (*EXIF, error) {
	if !isTIFF(b) {
		return nil, fmt.Errorf("exif block does not start with a TIFF header (%d bytes): %w", len(b), ErrCorrupt)
	}
	r := &tiffReader{b: b, visited: make(map[uint32]bool), x: &EXIF{}}
	if b[0] == 'I' {
		r.order = binary.LittleEndian
	} else {
		r.order = binary.BigEndian
	}
	r.readIFD(ifd0, r.order.Uint32(b[4:]))
	r.finish()
	return r.x, nil
}

// readIFD reads the entries of one IFD at off and, from IFD0, follows the
// Exif and GPS IFD pointers. The chain to IFD1 (the thumbnail) is not
// followed. Recursion depth is at most two: IFD0 → Exif or GPS, and each
// offset is visited once.
func (r *tiffReader) readIFD(kind ifdKind, off uint32) {
	if r.visited[off] {
		r.problem("%s at offset %d was already read (loop)", kind, off)
		return
	}
	r.visited[off] = true
	if uint64(off)+2 > uint64(len(r.b)) {
		r.problem("%s offset %d is outside the %d-byte block", kind, off, len(r.b))
		return
	}
	n := int(r.order.Uint16(r.b[off:]))
	if n > maxIFDEntries {
		r.problem("%s claims %d entries, more than %d", kind, n, maxIFDEntries)
		return
	}
	if avail := (len(r.b) - int(off) - 2) / 12; n > avail {
		r.problem("%s claims %d entries, only %d fit in the block", kind, n, avail)
		n = avail
	}
	var sub []struct {
		kind ifdKind
		off  uint32
	}
	for i := range n {
		p := int(off) + 2 + 12*i
		e := r.entry(r.b[p : p+12])
		if e.val == nil {
			switch {
			case int(e.typ) >= len(typeSize) || typeSize[e.typ] == 0:
				r.problem("%s tag 0x%04X: unknown type %d", kind, e.tag, e.typ)
			case e.count > 0:
				r.problem("%s tag 0x%04X: %d values of type %d lie outside the %d-byte block", kind, e.tag, e.count, e.typ, len(r.b))
			}
			continue
		}
		if kind == ifd0 && (e.tag == tagExifIFD || e.tag == tagGPSIFD) {
			if o, ok := r.uint(e); ok {
				k := ifdExif
				if e.tag == tagGPSIFD {
					k = ifdGPS
				}
				sub = append(sub, struct {
					kind ifdKind
					off  uint32
				}{k, uint32(o)})
			}
			continue
		}
		r.field(kind, e)
	}
	for _, s := range sub {
		r.readIFD(s.kind, s.off)
	}
}

// entry decodes a 12-byte IFD entry and locates its value, leaving val nil
// when the type is unknown or the value does not lie inside the block.
func (r *tiffReader) entry(p []byte) entry {
	e := entry{tag: r.order.Uint16(p), typ: r.order.Uint16(p[2:]), count: r.order.Uint32(p[4:])}
	if int(e.typ) >= len(typeSize) || typeSize[e.typ] == 0 || e.count == 0 {
		return e
	}
	size := uint64(typeSize[e.typ]) * uint64(e.count) // ≤ 8 × (2³²−1): no overflow
	if size <= 4 {
		e.val = p[8 : 8+size]
		return e
	}
	off := uint64(r.order.Uint32(p[8:]))
	if off+size > uint64(len(r.b)) {
		return e
	}
	e.val = r.b[off : off+size]
	return e
}

// uint returns the first value of a BYTE, SHORT or LONG entry.
func (r *tiffReader) uint(e entry) (uint64, bool) {
	switch e.typ {
	case typeByte:
		return uint64(e.val[0]), true
	case typeShort:
		return uint64(r.order.Uint16(e.val)), true
	case typeLong, 13: // 13 is IFD, a LONG offset
		return uint64(r.order.Uint32(e.val)), true
	}
	return 0, false
}

// rational returns value i of a RATIONAL or SRATIONAL entry; ok is false
// for other types, a missing index or a zero denominator.
func (r *tiffReader) rational(e entry, i int) (float64, bool) {
	if (e.typ != typeRational && e.typ != typeSRat) || uint64(i) >= uint64(e.count) {
		return 0, false
	}
	num, den := r.order.Uint32(e.val[8*i:]), r.order.Uint32(e.val[8*i+4:])
	if den == 0 {
		return 0, false
	}
	if e.typ == typeSRat {
		return float64(int32(num)) / float64(int32(den)), true
	}
	return float64(num) / float64(den), true
}

// text returns an ASCII entry's value up to its first NUL, trimmed of
// spaces and cut to maxString bytes. Writers often pad with spaces or
// NULs, and some leave a field blank rather than omitting it.
func text(e entry) string {
	if e.typ != typeASCII && e.typ != 7 { // 7: UNDEFINED, used by some for text
		return ""
	}
	v := e.val
	if i := indexByte(v, 0); i >= 0 {
		v = v[:i]
	}
	if len(v) > maxString {
		v = v[:maxString]
	}
	return strings.TrimSpace(string(v))
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// gpsParts collects the GPS IFD entries until finish combines them; the parts
// are only meaningful together.
type gpsParts struct {
	latRef, lonRef string
	lat, lon       *entry
	altRef         int
	alt            *entry
	time           *entry
	date           string
}

func (r *tiffReader) gps() *gpsParts {
	if r.gpsParts == nil {
		r.gpsParts = &gpsParts{}
	}
	return r.gpsParts
}

// field stores one entry of a known IFD into the result. A field keeps
// its first valid value: a repeated tag is damage or tampering, and is
// listed in Problems. Some writers put IFD0 tags (Make, Model) in the
// Exif IFD, so the two are searched alike; IFD0 is read first and wins.
func (r *tiffReader) field(kind ifdKind, e entry) {
	x := r.x
	if kind == ifdGPS {
		r.gpsField(e)
		return
	}
	switch e.tag {
	case tagMake:
		r.setText(&x.Make, kind, e)
	case tagModel:
		r.setText(&x.Model, kind, e)
	case tagSoftware:
		r.setText(&x.Software, kind, e)
	case tagImageDescription:
		r.setText(&x.ImageDescription, kind, e)
	case tagDateTimeOriginal:
		r.setText(&x.DateTimeOriginal, kind, e)
	case tagOffsetTimeOriginal:
		r.setText(&x.OffsetTimeOriginal, kind, e)
	case tagLensModel:
		r.setText(&x.LensModel, kind, e)
	case tagOrientation:
		if v, ok := r.uint(e); ok && v >= 1 && v <= 8 {
			r.setInt(&x.Orientation, kind, e, int(v))
		}
	case tagPixelXDimension:
		if v, ok := r.uint(e); ok && v <= math.MaxInt32 {
			r.setInt(&x.Width, kind, e, int(v))
		}
	case tagPixelYDimension:
		if v, ok := r.uint(e); ok && v <= math.MaxInt32 {
			r.setInt(&x.Height, kind, e, int(v))
		}
	case tagDigitalZoomRatio:
		if v, ok := r.rational(e, 0); ok && v > 0 && !math.IsInf(v, 0) && x.DigitalZoom == 0 {
			x.DigitalZoom = v
		}
	case tagFlash:
		if v, ok := r.uint(e); ok && v <= 0xFFFF && x.Flash == nil {
			f := int(v)
			x.Flash = &f
		}
	default:
		if e.tag == tagSubSecTimeOriginal && r.subsec == "" {
			r.subsec = text(e)
		}
		r.extra(kind, e)
	}
}

func (r *tiffReader) setText(dst *string, kind ifdKind, e entry) {
	v := text(e)
	switch {
	case *dst == "":
		*dst = v
	case v != "" && v != *dst:
		r.problem("%s tag 0x%04X repeated with a different value; the first is kept", kind, e.tag)
	}
}

func (r *tiffReader) setInt(dst *int, kind ifdKind, e entry, v int) {
	switch {
	case *dst == 0:
		*dst = v
	case v != *dst:
		r.problem("%s tag 0x%04X repeated with a different value; the first is kept", kind, e.tag)
	}
}

func (r *tiffReader) gpsField(e entry) {
	g := r.gps()
	switch e.tag {
	case gpsLatitudeRef:
		g.latRef = text(e)
	case gpsLongitudeRef:
		g.lonRef = text(e)
	case gpsLatitude:
		g.lat = &e
	case gpsLongitude:
		g.lon = &e
	case gpsAltitudeRef:
		if v, ok := r.uint(e); ok {
			g.altRef = int(v)
		}
	case gpsAltitude:
		g.alt = &e
	case gpsTimeStamp:
		g.time = &e
	case gpsDateStamp:
		g.date = text(e)
	default:
		r.extra(ifdGPS, e)
	}
}

// extra stores an allowlisted tag in Tags.
func (r *tiffReader) extra(kind ifdKind, e entry) {
	name, ok := extraTags[kind][e.tag]
	if !ok {
		return
	}
	var v string
	switch e.typ {
	case typeASCII:
		v = text(e)
	case typeByte, typeShort, typeLong:
		n, _ := r.uint(e)
		v = strconv.FormatUint(n, 10)
	case typeRational, typeSRat:
		num, den := r.order.Uint32(e.val), r.order.Uint32(e.val[4:])
		if e.typ == typeSRat {
			v = strconv.FormatInt(int64(int32(num)), 10) + "/" + strconv.FormatInt(int64(int32(den)), 10)
		} else {
			v = strconv.FormatUint(uint64(num), 10) + "/" + strconv.FormatUint(uint64(den), 10)
		}
		// Exposure times read best as fractions ("1/60"); other ratios
		// as decimals ("2.8").
		if f, ok := r.rational(e, 0); ok && name != "ExposureTime" {
			v = strconv.FormatFloat(f, 'f', -1, 64)
		}
	}
	if v == "" {
		return
	}
	if r.x.Tags == nil {
		r.x.Tags = make(map[string]string)
	}
	r.x.Tags[name] = v
}

// finish derives Taken and GPS once all IFDs are read.
func (r *tiffReader) finish() {
	x := r.x
	x.Taken = takenTime(x.DateTimeOriginal, x.OffsetTimeOriginal, r.subsec)
	if g := r.gpsParts; g != nil {
		x.GPS = r.position(g)
	}
}

// takenTime formats the capture time; see EXIF.Taken.
func takenTime(dt, offset, subsec string) string {
	t, err := time.Parse("2006:01:02 15:04:05", dt)
	if err != nil {
		return ""
	}
	if len(subsec) > 0 && len(subsec) <= 9 && allDigits(subsec) {
		frac, _ := strconv.Atoi(subsec + strings.Repeat("0", 9-len(subsec)))
		t = t.Add(time.Duration(frac))
	}
	zone, ok := parseOffset(offset)
	if !ok {
		return t.Format("2006-01-02T15:04:05.999999999")
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), zone).Format(time.RFC3339Nano)
}

// parseOffset reads an Exif OffsetTime value, "+HH:MM" or "-HH:MM".
func parseOffset(s string) (*time.Location, bool) {
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' || !allDigits(s[1:3]) || !allDigits(s[4:]) {
		return nil, false
	}
	h, _ := strconv.Atoi(s[1:3])
	m, _ := strconv.Atoi(s[4:])
	if h > 14 || m > 59 {
		return nil, false
	}
	sec := (h*60 + m) * 60
	if s[0] == '-' {
		sec = -sec
	}
	return time.FixedZone(s, sec), true
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// position combines the GPS parts, or returns nil when latitude or
// longitude or their hemisphere reference is missing or invalid: a
// coordinate with an unknown hemisphere could be off by a continent, and
// one written as text (as some HTC phones do, "52,00000,50,00000,34,01180")
// is ambiguous, so neither is guessed at.
func (r *tiffReader) position(g *gpsParts) *GPS {
	lat, errLat := r.degrees(g.lat, g.latRef, "N", "S", 90)
	lon, errLon := r.degrees(g.lon, g.lonRef, "E", "W", 180)
	if errLat != "" || errLon != "" {
		if errLat != "" && (g.lat != nil || g.latRef != "") {
			r.problem("GPS IFD: latitude %s", errLat)
		}
		if errLon != "" && (g.lon != nil || g.lonRef != "") {
			r.problem("GPS IFD: longitude %s", errLon)
		}
		return nil
	}
	p := &GPS{Latitude: lat, Longitude: lon}
	if g.alt != nil {
		if a, ok := r.rational(*g.alt, 0); ok {
			if g.altRef == 1 {
				a = -a
			}
			p.Altitude = &a
		}
	}
	if g.time != nil && g.date != "" {
		p.Timestamp = r.gpsTimestamp(*g.time, g.date)
	}
	return p
}

// degrees reads a GPS coordinate: three RATIONALs, degrees, minutes and
// seconds (minutes or seconds may carry the fraction instead). It returns
// what is wrong with it, or "".
func (r *tiffReader) degrees(e *entry, ref, pos, neg string, limit float64) (float64, string) {
	if e == nil {
		return 0, "missing"
	}
	if e.typ != typeRational || e.count != 3 {
		return 0, fmt.Sprintf("has type %d and %d values, want 3 RATIONALs", e.typ, e.count)
	}
	var v float64
	for i, scale := range []float64{1, 60, 3600} {
		f, ok := r.rational(*e, i)
		if !ok {
			return 0, "has a zero denominator"
		}
		v += f / scale
	}
	if v > limit {
		return 0, fmt.Sprintf("%g° is out of range", v)
	}
	switch ref {
	case pos:
	case neg:
		v = -v
	default:
		return 0, fmt.Sprintf("reference %q is not %s or %s", ref, pos, neg)
	}
	return v, ""
}

// gpsTimestamp combines GPSDateStamp ("2006:01:02") and GPSTimeStamp
// (hours, minutes, seconds as RATIONALs, UTC) into RFC 3339.
func (r *tiffReader) gpsTimestamp(e entry, date string) string {
	d, err := time.Parse("2006:01:02", date)
	if err != nil {
		return ""
	}
	var hms [3]float64
	for i := range hms {
		f, ok := r.rational(e, i)
		if !ok || f < 0 {
			return ""
		}
		hms[i] = f
	}
	if hms[0] >= 24 || hms[1] >= 60 || hms[2] >= 61 { // 60: leap second
		return ""
	}
	ns := math.Round((hms[0]*3600 + hms[1]*60 + hms[2]) * 1e9)
	return d.Add(time.Duration(ns)).UTC().Format(time.RFC3339Nano)
}
