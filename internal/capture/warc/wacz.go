// SPDX-License-Identifier: Apache-2.0

package warc

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// WACZVersion is the only WACZ version written and accepted.
const WACZVersion = "1.1.1"

// Page is one entry of pages/pages.jsonl: a page a viewer should offer.
type Page struct {
	URL   string
	TS    time.Time // when the page was captured; normally the response's WARC-Date
	Title string    // optional
	ID    string    // optional, unique within the package
}

// Package describes a WACZ file to write.
type Package struct {
	Title, Description string
	Software           string    // name and version of the packing software
	Created            time.Time // also used as "modified" and as every ZIP entry's time
	MainPageURL        string
	MainPageDate       time.Time
	WARCs              []string // paths of .warc.gz (or .warc) files; base names must be unique
	Pages              []Page
}

// resource is one entry of datapackage.json's "resources".
type resource struct {
	Name  string `json:"name"`
	Path  string `json:"path"`
	Hash  string `json:"hash"`
	Bytes int64  `json:"bytes"`
}

// dataPackage is datapackage.json, fields in the order they are written.
type dataPackage struct {
	Profile      string     `json:"profile"`
	WACZVersion  string     `json:"wacz_version"`
	Title        string     `json:"title,omitempty"`
	Description  string     `json:"description,omitempty"`
	Created      string     `json:"created,omitempty"`
	Modified     string     `json:"modified,omitempty"`
	Software     string     `json:"software,omitempty"`
	MainPageURL  string     `json:"mainPageUrl,omitempty"`
	MainPageDate string     `json:"mainPageDate,omitempty"`
	Resources    []resource `json:"resources"`
}

// digestFile is datapackage-digest.json.
type digestFile struct {
	Path string `json:"path"`
	Hash string `json:"hash"`
}

// pagesHeader is the first line of pages/pages.jsonl.
type pagesHeader struct {
	Format string `json:"format"`
	ID     string `json:"id"`
	Title  string `json:"title"`
}

type pageLine struct {
	ID    string `json:"id,omitempty"`
	URL   string `json:"url"`
	TS    string `json:"ts"`
	Title string `json:"title,omitempty"`
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// WriteWACZ writes a WACZ 1.1.1 file at path, which must not exist. The
// ZIP holds, in this order:
//
//	archive/<name>.warc.gz      each of p.WARCs, STORED (not compressed)
//	indexes/index.cdxj          the CDXJ lines of every WARC ([Index]), sorted bytewise
//	pages/pages.jsonl           {"format":"json-pages-1.0","id":"pages","title":…}, then one line per page
//	datapackage.json            profile, wacz_version, metadata, and every file above with sha256 and size
//	datapackage-digest.json     {"path":"datapackage.json","hash":"sha256:…"}
//
// The output depends only on p and the bytes of the WARCs: every ZIP entry
// carries p.Created as its modification time, and "modified" equals
// "created". The file is written under a temporary name, synced, and then
// linked into place.
func WriteWACZ(path string, p Package) error {
	fail := func(err error) error { return fmt.Errorf("warc: write wacz %s: %w", path, err) }
	if p.Created.IsZero() {
		return fail(fmt.Errorf("package Created time is required"))
	}
	if len(p.WARCs) == 0 {
		return fail(fmt.Errorf("no WARC files given"))
	}
	seen := map[string]bool{}
	var lines []CDXJLine
	for _, w := range p.WARCs {
		name := filepath.Base(w)
		if !strings.HasSuffix(name, ".warc.gz") && !strings.HasSuffix(name, ".warc") {
			return fail(fmt.Errorf("%s: name must end in .warc.gz or .warc", w))
		}
		if seen[name] {
			return fail(fmt.Errorf("%s: two WARC files named %s", w, name))
		}
		seen[name] = true
		l, err := Index(w)
		if err != nil {
			return fail(err)
		}
		lines = append(lines, l...)
	}
	SortCDXJ(lines)
	var index bytes.Buffer
	for _, l := range lines {
		index.WriteString(l.String())
		index.WriteByte('\n')
	}

	pages, err := pagesJSONL(p)
	if err != nil {
		return fail(err)
	}

	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return fail(err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()

	zw := zip.NewWriter(tmp)
	var resources []resource
	for _, w := range p.WARCs {
		r, err := addStored(zw, "archive/"+filepath.Base(w), w, p.Created)
		if err != nil {
			return fail(err)
		}
		resources = append(resources, r)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{
		{"indexes/index.cdxj", index.Bytes()},
		{"pages/pages.jsonl", pages},
	} {
		r, err := addDeflated(zw, f.name, f.data, p.Created)
		if err != nil {
			return fail(err)
		}
		resources = append(resources, r)
	}

	dp := dataPackage{
		Profile:      "data-package",
		WACZVersion:  WACZVersion,
		Title:        p.Title,
		Description:  p.Description,
		Created:      formatTime(p.Created),
		Modified:     formatTime(p.Created),
		Software:     p.Software,
		MainPageURL:  p.MainPageURL,
		MainPageDate: formatTime(p.MainPageDate),
		Resources:    resources,
	}
	dpBytes, err := json.MarshalIndent(dp, "", "  ")
	if err != nil {
		return fail(err)
	}
	dpBytes = append(dpBytes, '\n')
	if _, err := addDeflated(zw, "datapackage.json", dpBytes, p.Created); err != nil {
		return fail(err)
	}
	sum := sha256.Sum256(dpBytes)
	dg, err := json.MarshalIndent(digestFile{Path: "datapackage.json", Hash: "sha256:" + hex.EncodeToString(sum[:])}, "", "  ")
	if err != nil {
		return fail(err)
	}
	if _, err := addDeflated(zw, "datapackage-digest.json", append(dg, '\n'), p.Created); err != nil {
		return fail(err)
	}
	if err := zw.Close(); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return fail(err)
	}
	if err := syncDir(dir); err != nil {
		return fail(err)
	}
	return nil
}

// pagesJSONL renders pages/pages.jsonl.
func pagesJSONL(p Package) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	title := p.Title
	if title == "" {
		title = "All Pages"
	}
	if err := enc.Encode(pagesHeader{Format: "json-pages-1.0", ID: "pages", Title: title}); err != nil {
		return nil, err
	}
	for _, pg := range p.Pages {
		if pg.URL == "" || pg.TS.IsZero() {
			return nil, fmt.Errorf("page %q: URL and TS are required", pg.URL)
		}
		if err := enc.Encode(pageLine{ID: pg.ID, URL: pg.URL, TS: formatTime(pg.TS), Title: pg.Title}); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

// addStored copies the file at src into the ZIP as name without
// compression. Sizes and CRC-32 are computed first so that the local file
// header carries them (no data descriptor), which lets readers seek into
// the archive by the local header alone.
func addStored(zw *zip.Writer, name, src string, mod time.Time) (resource, error) {
	f, err := os.Open(src)
	if err != nil {
		return resource{}, err
	}
	defer f.Close()
	crc := crc32.NewIEEE()
	sh := sha256.New()
	n, err := io.Copy(io.MultiWriter(crc, sh), f)
	if err != nil {
		return resource{}, fmt.Errorf("read %s: %w", src, err)
	}
	hdr := &zip.FileHeader{
		Name:               name,
		Method:             zip.Store,
		CRC32:              crc.Sum32(),
		CompressedSize64:   uint64(n),
		UncompressedSize64: uint64(n),
	}
	setModified(hdr, mod)
	w, err := zw.CreateRaw(hdr)
	if err != nil {
		return resource{}, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return resource{}, err
	}
	// Re-hash while copying so that a file changing between the two passes
	// is detected rather than packaged with a stale hash.
	sh2 := sha256.New()
	m, err := io.Copy(io.MultiWriter(w, sh2), io.LimitReader(f, n+1))
	if err != nil {
		return resource{}, fmt.Errorf("copy %s: %w", src, err)
	}
	if m != n || !bytes.Equal(sh.Sum(nil), sh2.Sum(nil)) {
		return resource{}, fmt.Errorf("%s changed while being packaged", src)
	}
	return resource{Name: filepath.Base(name), Path: name, Hash: "sha256:" + hex.EncodeToString(sh.Sum(nil)), Bytes: n}, nil
}

// setModified fills the header fields that zip.Writer.CreateHeader derives
// from FileHeader.Modified but CreateRaw does not: versions, the MS-DOS
// date and time, and the extended-timestamp extra field (Unix mtime).
func setModified(h *zip.FileHeader, t time.Time) {
	const zipVersion20 = 20 // as CreateHeader writes for non-ZIP64 entries
	t = t.UTC()
	h.CreatorVersion = zipVersion20
	h.ReaderVersion = zipVersion20
	h.Modified = t
	h.ModifiedDate = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	h.ModifiedTime = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	var extra [9]byte
	binary.LittleEndian.PutUint16(extra[0:], 0x5455) // extended timestamp
	binary.LittleEndian.PutUint16(extra[2:], 5)      // data size
	extra[4] = 1                                     // modification time present
	binary.LittleEndian.PutUint32(extra[5:], uint32(t.Unix()))
	h.Extra = append(h.Extra, extra[:]...)
}

// addDeflated adds data to the ZIP as name, deflated.
func addDeflated(zw *zip.Writer, name string, data []byte, mod time.Time) (resource, error) {
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: mod.UTC()})
	if err != nil {
		return resource{}, err
	}
	if _, err := w.Write(data); err != nil {
		return resource{}, err
	}
	sum := sha256.Sum256(data)
	return resource{Name: filepath.Base(name), Path: name, Hash: "sha256:" + hex.EncodeToString(sum[:]), Bytes: int64(len(data))}, nil
}
