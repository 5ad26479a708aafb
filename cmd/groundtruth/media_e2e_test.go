// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/draw"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// pdqData is the PDQ and vPDQ test data of Meta's reference
// implementation (testdata/pdq/README.md).
var pdqData = filepath.Join("..", "..", "testdata", "pdq")

func needFFmpeg(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("GROUNDTRUTH_REQUIRE_TOOLS") == "1" {
			t.Fatal("ffmpeg is not installed (Debian package ffmpeg)")
		}
		t.Skip("ffmpeg is not installed (Debian package ffmpeg)")
	}
}

type mediaShow struct {
	Slug  string `json:"slug"`
	Media *struct {
		Kind     string         `json:"kind"`
		Status   string         `json:"status"`
		Error    string         `json:"error"`
		Metadata map[string]any `json:"metadata"`
		Hashes   []struct {
			Kind    string   `json:"kind"`
			PDQ     string   `json:"pdq"`
			Seconds *float64 `json:"seconds"`
		} `json:"hashes"`
		Keyframes []struct {
			SHA256 string `json:"sha256"`
		} `json:"keyframes"`
		Group *struct {
			Members   []struct{ Slug string } `json:"members"`
			Sightings []struct {
				Slug string `json:"slug"`
				URL  string `json:"url"`
			} `json:"sightings"`
			First *struct {
				URL string `json:"url"`
			} `json:"first_known_appearance"`
			Caveat string `json:"caveat"`
		} `json:"group"`
	} `json:"media"`
}

// TestMediaGroupsAndFirstAppearance ingests a photo and a mirrored copy
// posted earlier elsewhere, and a video with an edited copy: copies join
// one group, the earliest posting is named as the first known appearance
// with its caveat, and match finds copies without ingesting them.
func TestMediaGroupsAndFirstAppearance(t *testing.T) {
	needFFmpeg(t)
	data := filepath.Join(t.TempDir(), "data")
	mustRun(t, data, "init")
	img := filepath.Join(pdqData, "images", "reg-test-input", "dih")
	orig, _ := filepath.Abs(filepath.Join(img, "bridge-1-original.jpg"))
	mirrored, _ := filepath.Abs(filepath.Join(img, "bridge-6-flipy.jpg"))
	mustRun(t, data, "ingest", orig, "--url", "https://t.me/somechannel/120", "--posted-at", "2020-10-11T10:00:00Z")
	out := mustRun(t, data, "ingest", mirrored, "--url", "https://x.com/someone/status/9", "--posted-at", "2020-10-11T08:30:00Z")
	if !strings.Contains(out, "match ") || !strings.Contains(out, "mirrored") {
		t.Fatalf("ingest of a mirrored copy printed %q, want a match line naming the mirroring", out)
	}
	var shown mediaShow
	runJSON(t, data, &shown, "show", "ev-"+sha256File(t, orig)[:12], "--json")
	m := shown.Media
	if m == nil || m.Kind != "image" || m.Status != "analysed" || len(m.Hashes) == 0 || m.Hashes[0].Kind != "pdq" {
		t.Fatalf("show --json media = %+v, want an analysed image whose first hash is plain PDQ", m)
	}
	if m.Group == nil || len(m.Group.Members) != 2 || len(m.Group.Sightings) != 2 {
		t.Fatalf("group = %+v, want two members with one sighting each", m.Group)
	}
	if m.Group.First == nil || !strings.Contains(m.Group.First.URL, "x.com") || !strings.Contains(m.Group.Caveat, "earliest known") {
		t.Fatalf("first known appearance = %+v (caveat %q), want the earlier x.com post with the caveat", m.Group.First, m.Group.Caveat)
	}

	// A copy with its edges cut: no hash finds it; the crop stage does,
	// and backs it with a PDQ distance.
	cropped := cropJPEG(t, orig, filepath.Join(filepath.Dir(data), "cropped.jpg"))
	var cropMatch struct {
		Matches []struct {
			Slug      string `json:"slug"`
			Distance  int    `json:"distance"`
			Transform string `json:"transform"`
		} `json:"matches"`
	}
	runJSON(t, data, &cropMatch, "match", cropped, "--json")
	origSlug := "ev-" + sha256File(t, orig)[:12]
	if len(cropMatch.Matches) == 0 || cropMatch.Matches[0].Slug != origSlug || !strings.Contains(cropMatch.Matches[0].Transform, "crop") || cropMatch.Matches[0].Distance > 31 {
		t.Fatalf("match of a cropped copy = %+v, want %s found as cropped within distance 31", cropMatch.Matches, origSlug)
	}

	video := filepath.Join(pdqData, "video")
	chair, _ := filepath.Abs(filepath.Join(video, "chair-20-sd-bar.mp4"))
	sepia, _ := filepath.Abs(filepath.Join(video, "chair-22-sd-sepia-bar.mp4"))
	pattern, _ := filepath.Abs(filepath.Join(video, "pattern-hd-no-bar.mp4"))
	mustRun(t, data, "ingest", chair)
	runJSON(t, data, &shown, "show", "ev-"+sha256File(t, chair)[:12], "--json")
	if m := shown.Media; m == nil || m.Kind != "video" || len(m.Hashes) < 15 || m.Hashes[0].Seconds == nil || len(m.Keyframes) == 0 || m.Metadata["video"] == nil {
		t.Fatalf("video analysis = %+v, want 1 fps frame hashes, keyframes and ffprobe metadata", m)
	}
	var matched struct {
		Kind    string `json:"kind"`
		Matches []struct {
			Slug     string   `json:"slug"`
			Query    *float64 `json:"query_percent"`
			Compared *float64 `json:"compared_percent"`
		} `json:"matches"`
	}
	runJSON(t, data, &matched, "match", sepia, "--json")
	if len(matched.Matches) != 1 || matched.Matches[0].Query == nil || *matched.Matches[0].Query < 80 || *matched.Matches[0].Compared < 80 {
		t.Fatalf("match of the sepia edit = %+v, want the chair video with both percentages ≥ 80", matched)
	}
	// The same footage under a large logo: plain vPDQ finds none of its
	// frames; the halves of the frames the logo leaves alone find it.
	logo, _ := filepath.Abs(filepath.Join(video, "chair-22-with-large-logo-bar.mp4"))
	var logoMatch struct {
		Matches []struct {
			Transform string   `json:"transform"`
			Query     *float64 `json:"query_percent"`
		} `json:"matches"`
	}
	runJSON(t, data, &logoMatch, "match", logo, "--json")
	if len(logoMatch.Matches) != 1 || !strings.Contains(logoMatch.Matches[0].Transform, "half") || *logoMatch.Matches[0].Query < 80 {
		t.Fatalf("match of the large-logo edit = %+v, want the chair video found from half frames", logoMatch)
	}
	runJSON(t, data, &matched, "match", pattern, "--json")
	if len(matched.Matches) != 0 {
		t.Fatalf("match of an unrelated video = %+v, want none", matched.Matches)
	}
	blurred, _ := filepath.Abs(filepath.Join(pdqData, "images", "bridge-mods", "blur-a-lot.jpg"))
	runJSON(t, data, &matched, "match", blurred, "--json")
	if len(matched.Matches) != 2 {
		t.Fatalf("match of a blurred copy = %+v, want the original and its mirrored copy", matched.Matches)
	}
}

// cropJPEG writes a copy of the JPEG at src with 10 % of its width and
// height cut, unevenly between the sides, re-encoded as a re-upload would
// be, and returns its path.
func cropJPEG(t *testing.T, src, dst string) string {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	r := image.Rect(b.Min.X+b.Dx()*3/100, b.Min.Y+b.Dy()*7/100, b.Max.X-b.Dx()*7/100, b.Max.Y-b.Dy()*3/100)
	out := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(out, out.Bounds(), img, r.Min, draw.Src)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// bombPNG is a valid PNG header announcing w × h pixels, with a few bytes
// of image data: what a decompression bomb looks like before it expands.
func bombPNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		c := append([]byte(typ), data...)
		b.Write(c)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

// TestMediaBadInput: files that cannot be analysed are stored all the
// same, the failure is recorded on the item, and the command says so in
// one line each and ends with exit status 2.
func TestMediaBadInput(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	mustRun(t, data, "init")
	jpeg, err := os.ReadFile(filepath.Join(pdqData, "images", "bridge-mods", "aaa-orig.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	mp4, err := os.ReadFile(filepath.Join(pdqData, "video", "chair-20-sd-bar.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	pngFile, err := os.ReadFile(filepath.Join(pdqData, "images", "misc-images", "c.png"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		body    []byte
		failure string // in the recorded error; "" means the analysis succeeds
		note    string // in the metadata
	}{
		{"truncated.jpg", jpeg[:len(jpeg)/3], "truncated", ""},
		{"empty.jpg", nil, "empty", ""},
		{"bomb.png", bombPNG(50000, 50000), "50000", ""},
		{"noise.mp4", bytes.Repeat([]byte("not a video "), 500), "content is not", ""},
		{"cut.mp4", mp4[:4000], "ffprobe", ""},
		{"picture.jpg", pngFile, "", "the name ends in .jpg but the content is image/png"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name)
			if err := os.WriteFile(p, c.body, 0o644); err != nil {
				t.Fatal(err)
			}
			res := run(t, data, "ingest", p)
			sum := sha256File(t, p)
			if !strings.Contains(res.stdout, "stored "+sum) {
				t.Fatalf("stdout %q: the original was not acknowledged as stored", res.stdout)
			}
			var shown mediaShow
			runJSON(t, data, &shown, "show", "ev-"+sum[:12], "--json")
			if shown.Media == nil {
				t.Fatal("no analysis recorded on the item")
			}
			if c.failure == "" {
				if res.code != 0 || shown.Media.Status != "analysed" {
					t.Fatalf("exit %d, status %q (%s): want a successful analysis", res.code, shown.Media.Status, res.stderr)
				}
				if got, _ := shown.Media.Metadata["extension_mismatch"].(string); got != c.note {
					t.Errorf("extension note %q, want %q", got, c.note)
				}
				return
			}
			if res.code != 2 {
				t.Errorf("exit status %d, want 2 (stderr %q)", res.code, res.stderr)
			}
			lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
			if len(lines) != 2 || !strings.Contains(lines[0], "cannot analyse") || !strings.Contains(lines[0], "the original is stored") {
				t.Errorf("stderr %q: want one line about the file and one summary line", res.stderr)
			}
			if shown.Media.Status != "failed" || !strings.Contains(shown.Media.Error, c.failure) {
				t.Errorf("recorded status %q error %q, want failed with %q", shown.Media.Status, shown.Media.Error, c.failure)
			}
			if strings.Contains(res.stderr, "/locker/") || strings.Contains(shown.Media.Error, "/locker/") {
				t.Errorf("the error names the locker path: %q", shown.Media.Error)
			}
		})
	}
	// Everything stored is still whole.
	if res := run(t, data, "verify"); res.code != 0 {
		t.Fatalf("verify after bad media: exit %d: %s%s", res.code, res.stdout, res.stderr)
	}
}

func sha256File(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256Hex(b)
}

// TestIngestProgressBar runs a bulk ingest on a terminal (util-linux's
// script gives it one) and expects the progress bar there, while the same
// ingest into a pipe (every other test) prints only result lines.
func TestIngestProgressBar(t *testing.T) {
	scriptPath, err := exec.LookPath("script")
	if err != nil {
		t.Skip("util-linux script is not installed: no terminal to test on")
	}
	data := filepath.Join(t.TempDir(), "data")
	mustRun(t, data, "init")
	files, _ := filepath.Glob(filepath.Join(pdqData, "images", "bridge-mods", "*.jpg"))
	var quoted []string
	for _, f := range files {
		abs, _ := filepath.Abs(f)
		quoted = append(quoted, "'"+abs+"'")
	}
	line := "'" + binPath + "' --data '" + data + "' ingest " + strings.Join(quoted, " ")
	cmd := exec.Command(scriptPath, "-qec", line, "/dev/null")
	cmd.Env = testEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ingest on a terminal: %v: %s", err, out)
	}
	for _, want := range []string{"ingest [", "/12", "12/12", "stored "} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("terminal output lacks %q:\n%q", want, out)
		}
	}
}

// Without ffmpeg a video is stored and acknowledged, the command fails
// (exit 1: the machine's problem, not the file's) saying what to install,
// and no failed analysis is recorded on the item: analyse --all does it
// once ffmpeg is there.
func TestIngestWithoutFFmpeg(t *testing.T) {
	needFFmpeg(t)
	data := filepath.Join(t.TempDir(), "data")
	mustRun(t, data, "init")
	clip, _ := filepath.Abs(filepath.Join(pdqData, "video", "chair-20-sd-bar.mp4"))
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := command(ctx, data, "ingest", clip)
	cmd.Env = append(cmd.Env, "PATH="+t.TempDir())
	res := finish(t, ctx, cmd, []string{"ingest", clip})
	if res.code != 1 || !strings.Contains(res.stderr, "install the Debian package ffmpeg") || !strings.Contains(res.stdout, "stored ") {
		t.Fatalf("ingest without ffmpeg: exit %d, stdout %q, stderr %q; want the file stored, exit 1 and what to install", res.code, res.stdout, res.stderr)
	}
	var shown mediaShow
	slug := "ev-" + sha256File(t, clip)[:12]
	runJSON(t, data, &shown, "show", slug, "--json")
	if shown.Media != nil {
		t.Fatalf("a failure of the machine was recorded on the item: %+v", shown.Media)
	}
	if out := mustRun(t, data, "analyse", "--all"); !strings.Contains(out, "analysed 1 original(s)") {
		t.Errorf("analyse --all printed %q", out)
	}
	runJSON(t, data, &shown, "show", slug, "--json")
	if shown.Media == nil || shown.Media.Status != "analysed" {
		t.Errorf("after analyse --all: %+v", shown.Media)
	}
}
