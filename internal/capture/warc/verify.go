// SPDX-License-Identifier: Apache-2.0

package warc

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxJSONFile bounds the size of datapackage.json and
// datapackage-digest.json read into memory.
const maxJSONFile = 64 << 20

var sha256Hash = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// VerifyWACZ checks the WACZ file at waczPath the way py-wacz `wacz validate`
// does, plus a few checks of our own, and returns nil or a one-line error
// naming the file and the check that failed. In order:
//
//  1. The file is a ZIP; entry names are relative, without "..", and unique.
//  2. Required files exist: datapackage.json, pages/pages.jsonl,
//     indexes/index.cdxj (or an indexes/*.cdx.gz), and at least one
//     archive/*.warc or archive/*.warc.gz.
//  3. datapackage.json is JSON with profile "data-package", wacz_version
//     "1.1.1" (the only version py-wacz accepts) and a non-empty resources
//     list.
//  4. Every resource has a path present in the ZIP (listed once) and a hash
//     "sha256:<64 lowercase hex>" and bytes equal to the entry's content;
//     reading an entry also checks the ZIP's own CRC-32.
//  5. Every ZIP entry except datapackage.json and datapackage-digest.json is
//     listed in resources (ours; py-wacz only checks listed files).
//  6. Entries under archive/ and *.cdx.gz indexes are STORED, not deflated.
//  7. pages/pages.jsonl starts with a {"format":"json-pages-1.0",…} line and
//     every other line is a JSON object with a url and an RFC 3339 ts.
//  8. Every indexes/index.cdxj line is "<key> <timestamp> <json>" with a
//     14–17 digit timestamp, JSON holding url, offset, length and filename,
//     filename naming an archive/ entry and offset+length inside it; lines
//     are sorted bytewise (ours).
//  9. datapackage-digest.json exists (py-wacz only checks it when present),
//     has path "datapackage.json" and hash equal to the sha256 of
//     datapackage.json.
//
// Signatures (signedData) are not checked here.
func VerifyWACZ(waczPath string) error {
	fail := func(file, format string, a ...any) error {
		return fmt.Errorf("warc: verify wacz %s: %s: %s", waczPath, file, fmt.Sprintf(format, a...))
	}
	zr, err := zip.OpenReader(waczPath)
	if err != nil {
		return fmt.Errorf("warc: verify wacz %s: not a ZIP file: %w", waczPath, err)
	}
	defer zr.Close()

	// 1. Entry names.
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue // directory entry
		}
		if f.Name == "" || strings.HasPrefix(f.Name, "/") || strings.Contains(f.Name, `\`) ||
			path.Clean(f.Name) != f.Name || strings.HasPrefix(f.Name, "../") {
			return fail(f.Name, "unsafe entry name")
		}
		if files[f.Name] != nil {
			return fail(f.Name, "entry occurs more than once")
		}
		files[f.Name] = f
	}

	// 2. Required files.
	for _, name := range []string{"datapackage.json", "pages/pages.jsonl"} {
		if files[name] == nil {
			return fail(name, "required file missing")
		}
	}
	var warcs, indexes []string
	for name := range files {
		switch {
		case strings.HasPrefix(name, "archive/") && (strings.HasSuffix(name, ".warc") || strings.HasSuffix(name, ".warc.gz")):
			warcs = append(warcs, name)
		case name == "indexes/index.cdxj" || strings.HasPrefix(name, "indexes/") && strings.HasSuffix(name, ".cdx.gz"):
			indexes = append(indexes, name)
		}
	}
	if len(warcs) == 0 {
		return fail("archive/", "no .warc or .warc.gz file")
	}
	if len(indexes) == 0 {
		return fail("indexes/", "no index.cdxj or .cdx.gz index")
	}

	// 3. datapackage.json.
	dpBytes, err := readEntry(files["datapackage.json"], maxJSONFile)
	if err != nil {
		return fail("datapackage.json", "%v", err)
	}
	var dp struct {
		Profile     string `json:"profile"`
		WACZVersion string `json:"wacz_version"`
		Resources   []struct {
			Path  string `json:"path"`
			Hash  string `json:"hash"`
			Bytes *int64 `json:"bytes"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(dpBytes, &dp); err != nil {
		return fail("datapackage.json", "invalid JSON: %v", err)
	}
	if dp.Profile != "data-package" {
		return fail("datapackage.json", "profile is %q, want \"data-package\"", dp.Profile)
	}
	if dp.WACZVersion != WACZVersion {
		return fail("datapackage.json", "wacz_version is %q, want %q", dp.WACZVersion, WACZVersion)
	}
	if len(dp.Resources) == 0 {
		return fail("datapackage.json", "resources list is empty")
	}

	// 4. Listed files: present, hash and size.
	listed := map[string]bool{}
	for _, r := range dp.Resources {
		if listed[r.Path] {
			return fail("datapackage.json", "resource %s listed more than once", r.Path)
		}
		listed[r.Path] = true
		f := files[r.Path]
		if f == nil {
			return fail(r.Path, "listed in datapackage.json but missing from the ZIP")
		}
		if !sha256Hash.MatchString(r.Hash) {
			return fail(r.Path, "hash %q in datapackage.json is not sha256:<64 lowercase hex>", r.Hash)
		}
		if r.Bytes == nil {
			return fail(r.Path, "no bytes in datapackage.json")
		}
		sum, n, err := hashEntry(f)
		if err != nil {
			return fail(r.Path, "%v", err)
		}
		if got := "sha256:" + sum; got != r.Hash {
			return fail(r.Path, "hash mismatch: datapackage.json says %s, content is %s", r.Hash, got)
		}
		if n != *r.Bytes {
			return fail(r.Path, "size mismatch: datapackage.json says %d bytes, content is %d", *r.Bytes, n)
		}
	}

	// 5. Nothing unlisted.
	for name := range files {
		if name != "datapackage.json" && name != "datapackage-digest.json" && !listed[name] {
			return fail(name, "not listed in datapackage.json resources")
		}
	}

	// 6. STORE for WARCs and compressed indexes.
	for name, f := range files {
		if (strings.HasPrefix(name, "archive/") || strings.HasSuffix(name, ".cdx.gz")) && f.Method != zip.Store {
			return fail(name, "compressed in the ZIP (method %d); it must be STORED", f.Method)
		}
	}

	// 7. pages.jsonl.
	if err := checkPages(files["pages/pages.jsonl"]); err != nil {
		return fail("pages/pages.jsonl", "%v", err)
	}

	// 8. index.cdxj.
	if f := files["indexes/index.cdxj"]; f != nil {
		if err := checkCDXJ(f, files); err != nil {
			return fail("indexes/index.cdxj", "%v", err)
		}
	}

	// 9. datapackage-digest.json.
	df := files["datapackage-digest.json"]
	if df == nil {
		return fail("datapackage-digest.json", "required file missing")
	}
	dgBytes, err := readEntry(df, maxJSONFile)
	if err != nil {
		return fail("datapackage-digest.json", "%v", err)
	}
	var dg digestFile
	if err := json.Unmarshal(dgBytes, &dg); err != nil {
		return fail("datapackage-digest.json", "invalid JSON: %v", err)
	}
	if dg.Path != "datapackage.json" {
		return fail("datapackage-digest.json", "path is %q, want \"datapackage.json\"", dg.Path)
	}
	sum := sha256.Sum256(dpBytes)
	if want := "sha256:" + hex.EncodeToString(sum[:]); dg.Hash != want {
		return fail("datapackage-digest.json", "hash %s does not match datapackage.json (%s)", dg.Hash, want)
	}
	return nil
}

// readEntry reads a whole ZIP entry of at most limit bytes.
func readEntry(f *zip.File, limit int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

// hashEntry returns the sha256 (hex) and size of a ZIP entry's content.
// archive/zip checks the CRC-32 at the end of the entry.
func hashEntry(f *zip.File) (string, int64, error) {
	rc, err := f.Open()
	if err != nil {
		return "", 0, err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return "", n, fmt.Errorf("read: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// checkPages checks pages.jsonl's header line and page lines.
func checkPages(f *zip.File) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if n == 1 {
			var h pagesHeader
			if err := json.Unmarshal(line, &h); err != nil {
				return fmt.Errorf("line 1: invalid JSON: %v", err)
			}
			if h.Format != "json-pages-1.0" {
				return fmt.Errorf("line 1: format is %q, want \"json-pages-1.0\"", h.Format)
			}
			continue
		}
		if len(line) == 0 {
			continue
		}
		var pg struct {
			URL string `json:"url"`
			TS  string `json:"ts"`
		}
		if err := json.Unmarshal(line, &pg); err != nil {
			return fmt.Errorf("line %d: invalid JSON: %v", n, err)
		}
		if pg.URL == "" {
			return fmt.Errorf("line %d: no url", n)
		}
		if _, err := time.Parse(time.RFC3339Nano, pg.TS); err != nil {
			return fmt.Errorf("line %d: ts %q is not RFC 3339", n, pg.TS)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if n == 0 {
		return errors.New("empty; the first line must be the pages header")
	}
	return nil
}

var cdxTimestampRE = regexp.MustCompile(`^[0-9]{14,17}$`)

// checkCDXJ checks the syntax, order and targets of index.cdxj lines.
func checkCDXJ(f *zip.File, files map[string]*zip.File) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var prev []byte
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if prev != nil && bytes.Compare(prev, line) > 0 {
			return fmt.Errorf("line %d: not sorted bytewise", n)
		}
		prev = slices.Clone(line)
		key, rest, ok1 := bytes.Cut(line, []byte(" "))
		ts, js, ok2 := bytes.Cut(rest, []byte(" "))
		if !ok1 || !ok2 || len(key) == 0 {
			return fmt.Errorf("line %d: not \"<key> <timestamp> <json>\"", n)
		}
		if !cdxTimestampRE.Match(ts) {
			return fmt.Errorf("line %d: timestamp %q is not 14 to 17 digits", n, ts)
		}
		var fields map[string]any
		if err := json.Unmarshal(js, &fields); err != nil {
			return fmt.Errorf("line %d: invalid JSON: %v", n, err)
		}
		for _, k := range []string{"url", "offset", "length", "filename"} {
			if _, ok := fields[k]; !ok {
				return fmt.Errorf("line %d: no %s", n, k)
			}
		}
		name, _ := fields["filename"].(string)
		wf := files["archive/"+name]
		if name == "" || wf == nil {
			return fmt.Errorf("line %d: filename %q is not in archive/", n, name)
		}
		off, err1 := jsonInt(fields["offset"])
		length, err2 := jsonInt(fields["length"])
		if err1 != nil || err2 != nil || off < 0 || length <= 0 || uint64(off)+uint64(length) > wf.UncompressedSize64 {
			return fmt.Errorf("line %d: offset %v and length %v do not fit in %s", n, fields["offset"], fields["length"], name)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	return nil
}

// jsonInt accepts a CDXJ number given as a JSON string (as warcio writes
// it) or a JSON number.
func jsonInt(v any) (int64, error) {
	switch x := v.(type) {
	case string:
		return strconv.ParseInt(x, 10, 64)
	case float64:
		if x != float64(int64(x)) {
			return 0, errors.New("not an integer")
		}
		return int64(x), nil
	}
	return 0, errors.New("not a number")
}
