// SPDX-License-Identifier: Apache-2.0

package warc

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeTestWACZ writes a WACZ around two WARCs and returns its path and
// the Package used.
func writeTestWACZ(t *testing.T) (string, Package) {
	t.Helper()
	dir := t.TempDir()
	w1, _ := writeTestWARC(t, dir, exchanges(t))
	w2 := writeIndexWARC(t, dir)
	p := Package{
		Title:        "Test capture",
		Description:  "Two WARCs",
		Software:     "groundtruth/test",
		Created:      time.Date(2024, 3, 5, 15, 0, 0, 0, time.UTC),
		MainPageURL:  "https://example.org/post/1",
		MainPageDate: captureDate,
		WARCs:        []string{w1, w2},
		Pages: []Page{
			{URL: "https://example.org/post/1", TS: captureDate, Title: "Post <1> & more", ID: "p1"},
			{URL: "https://t.me/chan/42", TS: captureDate.Add(time.Second)},
		},
	}
	path := filepath.Join(dir, "capture.wacz")
	if err := WriteWACZ(path, p); err != nil {
		t.Fatal(err)
	}
	return path, p
}

// zipEntry is one file of a ZIP being rebuilt by a tampering test.
type zipEntry struct {
	name   string
	data   []byte
	method uint16
}

func readZip(t *testing.T, path string) []zipEntry {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var es []zipEntry
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		es = append(es, zipEntry{f.Name, b, f.Method})
	}
	return es
}

func writeZip(t *testing.T, path string, es []zipEntry) {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range es {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: e.method})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func entry(es []zipEntry, name string) *zipEntry {
	for i := range es {
		if es[i].name == name {
			return &es[i]
		}
	}
	return nil
}

// rehash rewrites datapackage.json's resource hashes and sizes and the
// digest file to match es, so that a tampering test trips only the check
// it aims at.
func rehash(t *testing.T, es []zipEntry) []zipEntry {
	t.Helper()
	dpe := entry(es, "datapackage.json")
	var dp map[string]any
	if err := json.Unmarshal(dpe.data, &dp); err != nil {
		t.Fatal(err)
	}
	for _, r := range dp["resources"].([]any) {
		r := r.(map[string]any)
		if e := entry(es, r["path"].(string)); e != nil {
			sum := sha256.Sum256(e.data)
			r["hash"] = "sha256:" + hex.EncodeToString(sum[:])
			r["bytes"] = len(e.data)
		}
	}
	dpe.data, _ = json.Marshal(dp)
	if dg := entry(es, "datapackage-digest.json"); dg != nil {
		sum := sha256.Sum256(dpe.data)
		dg.data, _ = json.Marshal(digestFile{Path: "datapackage.json", Hash: "sha256:" + hex.EncodeToString(sum[:])})
	}
	return es
}

func TestWriteWACZ(t *testing.T) {
	path, p := writeTestWACZ(t)
	if err := VerifyWACZ(path); err != nil {
		t.Fatalf("VerifyWACZ = %v, want nil", err)
	}

	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if !f.Modified.Equal(p.Created) {
			t.Errorf("%s: modified %v, want %v", f.Name, f.Modified, p.Created)
		}
		wantMethod := zip.Deflate
		if strings.HasPrefix(f.Name, "archive/") {
			wantMethod = zip.Store
			if f.Flags&0x8 != 0 {
				t.Errorf("%s: has a data descriptor; sizes should be in the local header", f.Name)
			}
		}
		if f.Method != wantMethod {
			t.Errorf("%s: method %d, want %d", f.Name, f.Method, wantMethod)
		}
	}
	wantNames := []string{"archive/test.warc.gz", "archive/index-test.warc.gz", "indexes/index.cdxj",
		"pages/pages.jsonl", "datapackage.json", "datapackage-digest.json"}
	if !slices.Equal(names, wantNames) {
		t.Fatalf("entries = %v, want %v", names, wantNames)
	}
	es := readZip(t, path)

	// Archived WARCs are the files, byte for byte.
	for i, w := range p.WARCs {
		want, err := os.ReadFile(w)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(es[i].data, want) {
			t.Errorf("%s differs from %s", es[i].name, w)
		}
	}

	// datapackage.json.
	var dp dataPackage
	if err := json.Unmarshal(entry(es, "datapackage.json").data, &dp); err != nil {
		t.Fatal(err)
	}
	if dp.Profile != "data-package" || dp.WACZVersion != "1.1.1" || dp.Title != p.Title ||
		dp.Created != "2024-03-05T15:00:00Z" || dp.Modified != dp.Created || dp.Software != p.Software ||
		dp.MainPageURL != p.MainPageURL || dp.MainPageDate != "2024-03-05T14:07:09.123456789Z" {
		t.Errorf("datapackage.json = %+v", dp)
	}
	if len(dp.Resources) != 4 {
		t.Fatalf("datapackage.json lists %d resources, want 4", len(dp.Resources))
	}
	for _, r := range dp.Resources {
		e := entry(es, r.Path)
		if e == nil {
			t.Errorf("resource %s not in ZIP", r.Path)
			continue
		}
		sum := sha256.Sum256(e.data)
		if r.Hash != "sha256:"+hex.EncodeToString(sum[:]) || r.Bytes != int64(len(e.data)) || r.Name != filepath.Base(r.Path) {
			t.Errorf("resource %+v does not match its entry (%d bytes)", r, len(e.data))
		}
	}
	var dg digestFile
	if err := json.Unmarshal(entry(es, "datapackage-digest.json").data, &dg); err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(entry(es, "datapackage.json").data); dg.Path != "datapackage.json" || dg.Hash != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Errorf("datapackage-digest.json = %+v", dg)
	}

	// pages.jsonl.
	pl := strings.Split(strings.TrimSuffix(string(entry(es, "pages/pages.jsonl").data), "\n"), "\n")
	wantPages := []string{
		`{"format":"json-pages-1.0","id":"pages","title":"Test capture"}`,
		`{"id":"p1","url":"https://example.org/post/1","ts":"2024-03-05T14:07:09.123456789Z","title":"Post <1> & more"}`,
		`{"url":"https://t.me/chan/42","ts":"2024-03-05T14:07:10.123456789Z"}`,
	}
	if !slices.Equal(pl, wantPages) {
		t.Errorf("pages.jsonl =\n%s\nwant\n%s", strings.Join(pl, "\n"), strings.Join(wantPages, "\n"))
	}

	// index.cdxj is both WARCs' Index lines, sorted.
	var want []string
	for _, w := range p.WARCs {
		lines, err := Index(w)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			want = append(want, l.String())
		}
	}
	slices.Sort(want)
	got := strings.Split(strings.TrimSuffix(string(entry(es, "indexes/index.cdxj").data), "\n"), "\n")
	if !slices.Equal(got, want) {
		t.Errorf("index.cdxj =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Same inputs, same bytes.
	again := filepath.Join(t.TempDir(), "again.wacz")
	if err := WriteWACZ(again, p); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(path)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Errorf("WriteWACZ is not deterministic: two runs differ")
	}
	if err := WriteWACZ(path, p); err == nil {
		t.Errorf("WriteWACZ over an existing file succeeded")
	}
}

func TestWriteWACZErrors(t *testing.T) {
	dir := t.TempDir()
	w, _ := writeTestWARC(t, dir, exchanges(t))
	created := time.Date(2024, 3, 5, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		p    Package
	}{
		{"no WARCs", Package{Created: created}},
		{"no Created", Package{WARCs: []string{w}}},
		{"duplicate names", Package{Created: created, WARCs: []string{w, w}}},
		{"page without URL", Package{Created: created, WARCs: []string{w}, Pages: []Page{{TS: created}}}},
		{"missing WARC", Package{Created: created, WARCs: []string{filepath.Join(dir, "nope.warc.gz")}}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, "e"+string(rune('a'+i))+".wacz")
			if err := WriteWACZ(out, tt.p); err == nil {
				t.Errorf("WriteWACZ(%s) succeeded, want an error", tt.name)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("WriteWACZ(%s) left a file behind", tt.name)
			}
		})
	}
}

func TestVerifyWACZDetectsTampering(t *testing.T) {
	good, _ := writeTestWACZ(t)
	dir := t.TempDir()

	tests := []struct {
		name   string
		mutate func(t *testing.T, es []zipEntry) []zipEntry // nil for raw byte edits
		raw    func(t *testing.T, b []byte)
		want   string // substring of the error
	}{
		{
			name: "one byte of a WARC, ZIP CRC left stale",
			raw: func(t *testing.T, b []byte) {
				zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
				if err != nil {
					t.Fatal(err)
				}
				off, err := zr.File[0].DataOffset()
				if err != nil {
					t.Fatal(err)
				}
				b[off+200] ^= 0x01
			},
			want: "archive/test.warc.gz: read: zip: checksum error",
		},
		{
			name: "one byte of a WARC, ZIP rebuilt",
			mutate: func(t *testing.T, es []zipEntry) []zipEntry {
				es[0].data[200] ^= 0x01
				return es
			},
			want: "archive/test.warc.gz: hash mismatch",
		},
		{
			name: "WARC dropped",
			mutate: func(t *testing.T, es []zipEntry) []zipEntry {
				return slices.Delete(es, 1, 2)
			},
			want: "archive/index-test.warc.gz: listed in datapackage.json but missing",
		},
		{
			name: "pages.jsonl dropped",
			mutate: func(t *testing.T, es []zipEntry) []zipEntry {
				return slices.DeleteFunc(es, func(e zipEntry) bool { return e.name == "pages/pages.jsonl" })
			},
			want: "pages/pages.jsonl: required file missing",
		},
		{
			name: "datapackage.json changed",
			mutate: func(t *testing.T, es []zipEntry) []zipEntry {
				e := entry(es, "datapackage.json")
				e.data = bytes.Replace(e.data, []byte("Test capture"), []byte("Test kapture"), 1)
				return es
			},
			want: "datapackage-digest.json: hash",
		},
		{
			name: "wacz_version 1.2.0",
			mutate: func(t *testing.T, es []zipEntry) []zipEntry {
				e := entry(es, "datapackage.json")
				e.data = bytes.Replace(e.data, []byte(`"1.1.1"`), []byte(`"1.2.0"`), 1)
				return rehash(t, es)
			},
			want: `datapackage.json: wacz_version is "1.2.0"`,
		},
		{
			name: "WARC deflated",
			mutate: func(t *testing.T, es []zipEntry) []zipEntry {
				es[0].method = zip.Deflate
				return es
			},
			want: "archive/test.warc.gz: compressed in the ZIP",
		},
		{
			name: "unlisted file",
			mutate: func(t *testing.T, es []zipEntry) []zipEntry {
				return append(es, zipEntry{"notes.txt", []byte("x"), zip.Deflate})
			},
			want: "notes.txt: not listed",
		},
		{
			name: "index not sorted",
			mutate: func(t *testing.T, es []zipEntry) []zipEntry {
				e := entry(es, "indexes/index.cdxj")
				lines := strings.SplitAfter(string(e.data), "\n")
				slices.Reverse(lines)
				e.data = []byte(strings.Join(lines, ""))
				return rehash(t, es)
			},
			want: "indexes/index.cdxj: line 2: not sorted",
		},
		{
			name: "index offset outside WARC",
			mutate: func(t *testing.T, es []zipEntry) []zipEntry {
				e := entry(es, "indexes/index.cdxj")
				e.data = bytes.Replace(e.data, []byte(`"offset":"`), []byte(`"offset":"99999999`), 1)
				return rehash(t, es)
			},
			want: "indexes/index.cdxj: line 1: offset",
		},
		{
			name: "pages header wrong",
			mutate: func(t *testing.T, es []zipEntry) []zipEntry {
				e := entry(es, "pages/pages.jsonl")
				e.data = bytes.Replace(e.data, []byte("json-pages-1.0"), []byte("json-pages-0.9"), 1)
				return rehash(t, es)
			},
			want: `pages/pages.jsonl: line 1: format is "json-pages-0.9"`,
		},
		{
			name: "digest file dropped",
			mutate: func(t *testing.T, es []zipEntry) []zipEntry {
				return slices.DeleteFunc(es, func(e zipEntry) bool { return e.name == "datapackage-digest.json" })
			},
			want: "datapackage-digest.json: required file missing",
		},
		{
			name: "not a ZIP",
			raw: func(t *testing.T, b []byte) {
				copy(b[len(b)-22:], make([]byte, 22)) // wipe the end of central directory
			},
			want: "not a ZIP file",
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := filepath.Join(dir, "bad"+string(rune('a'+i))+".wacz")
			if tt.raw != nil {
				b, err := os.ReadFile(good)
				if err != nil {
					t.Fatal(err)
				}
				tt.raw(t, b)
				if err := os.WriteFile(bad, b, 0o600); err != nil {
					t.Fatal(err)
				}
			} else {
				writeZip(t, bad, tt.mutate(t, readZip(t, good)))
			}
			err := VerifyWACZ(bad)
			if err == nil {
				t.Fatalf("VerifyWACZ(%s) = nil, want an error containing %q", tt.name, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("VerifyWACZ(%s) = %q, want it to contain %q", tt.name, err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("VerifyWACZ error spans several lines: %q", err)
			}
		})
	}

	t.Run("resource size wrong", func(t *testing.T) {
		es := rehash(t, readZip(t, good))
		e := entry(es, "datapackage.json")
		var dp map[string]any
		if err := json.Unmarshal(e.data, &dp); err != nil {
			t.Fatal(err)
		}
		dp["resources"].([]any)[3].(map[string]any)["bytes"] = 1
		e.data, _ = json.Marshal(dp)
		sum := sha256.Sum256(e.data)
		entry(es, "datapackage-digest.json").data, _ = json.Marshal(digestFile{Path: "datapackage.json", Hash: "sha256:" + hex.EncodeToString(sum[:])})
		bad := filepath.Join(dir, "size.wacz")
		writeZip(t, bad, es)
		err := VerifyWACZ(bad)
		if err == nil || !strings.Contains(err.Error(), "pages/pages.jsonl: size mismatch") {
			t.Errorf("VerifyWACZ = %v, want a size mismatch for pages/pages.jsonl", err)
		}
	})

	t.Run("rebuilt but untampered", func(t *testing.T) {
		// The rebuild helpers alone must not trip the verifier, or the
		// cases above would pass for the wrong reason.
		ok := filepath.Join(dir, "ok.wacz")
		es := readZip(t, good)
		writeZip(t, ok, es)
		if err := VerifyWACZ(ok); err != nil {
			t.Errorf("VerifyWACZ(rebuilt copy) = %v, want nil", err)
		}
	})
}
