// SPDX-License-Identifier: Apache-2.0

package web

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"groundtruth/internal/account"
	"groundtruth/internal/evidence"
	"groundtruth/internal/media"
	"groundtruth/internal/media/pdq"
	"groundtruth/internal/record"
	"groundtruth/internal/store"
)

var pdqData = filepath.Join("..", "..", "testdata", "pdq")

// addMedia ingests and analyses a file as the command line does.
func (s *site) addMedia(t *testing.T, path, slug string, sighting *record.Sighting, personal bool) {
	t.Helper()
	ctx := t.Context()
	res, err := evidence.Ingest(ctx, s.st, s.lk, evidence.Input{Path: path, Slug: slug, Sighting: sighting, PersonalData: personal,
		Incidents: []string{"ganja-missile-strike-2020-10-11"}}, store.Change{By: "test", At: time.Now(), Reason: "test"})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := media.NewLibrary(s.st, s.lk, pdq.MatchThreshold).Process(ctx, s.lk, s.derived, res.Evidence.SHA256, res.Evidence.MediaType, path, time.Now())
	if err != nil || rep.Failure != nil {
		t.Fatalf("analyse %s: %v %v", path, err, rep.Failure)
	}
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// The evidence page shows the analysis: the PDQ hash, the media group
// with its earliest known appearance and caveat, keyframes of a video;
// the file's own metadata only to signed-in readers, and group members
// only to those who may see them.
func TestEvidencePageMedia(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg is not installed")
	}
	s := newSite(t)
	dih := filepath.Join(pdqData, "images", "reg-test-input", "dih")
	posted := func(s string) record.Time { tm, _ := record.ParseTime(s); return tm }
	s.addMedia(t, filepath.Join(dih, "bridge-1-original.jpg"), "bridge-original",
		&record.Sighting{URL: "https://t.me/somechannel/120", Platform: "telegram", PostedAt: posted("2020-10-11T10:00:00Z")}, false)
	s.addMedia(t, filepath.Join(dih, "bridge-6-flipy.jpg"), "bridge-mirrored",
		&record.Sighting{URL: "https://x.com/someone/status/9", Platform: "x", PostedAt: posted("2020-10-11T08:30:00Z")}, false)
	s.addMedia(t, filepath.Join(dih, "bridge-3-rotate-180.jpg"), "bridge-witness", nil, true)
	s.addMedia(t, filepath.Join(pdqData, "video", "chair-20-sd-bar.mp4"), "chair", nil, false)

	editor := body(t, s.do(t, account.Editor, "GET", "/evidence/bridge-original", "", nil))
	for _, want := range []string{"Media analysis", "Media group: 3 items", "earliest known", "x.com/someone/status/9", "not proof that it was first posted", "mirrored", "bridge-witness", "Metadata in the file"} {
		if !strings.Contains(editor, want) {
			t.Errorf("editor's page lacks %q", want)
		}
	}
	public := body(t, s.do(t, account.Public, "GET", "/evidence/bridge-original", "", nil))
	if !strings.Contains(public, "Media group: 2 items") || strings.Contains(public, "bridge-witness") {
		t.Errorf("the public page must show the group without the personal-data item")
	}
	if strings.Contains(public, "Metadata in the file") {
		t.Errorf("the public page shows the file's metadata")
	}

	// The API says the same, under the same rules.
	for role, wantMeta := range map[account.Role]bool{account.Public: false, account.Viewer: true} {
		var item struct {
			Media *struct {
				Kind     string          `json:"kind"`
				Metadata json.RawMessage `json:"metadata"`
				Group    *struct {
					Members []struct{ Slug string } `json:"members"`
				} `json:"group"`
			} `json:"media"`
		}
		if err := json.Unmarshal([]byte(body(t, s.do(t, role, "GET", "/api/v1/evidence/bridge-original", "", nil))), &item); err != nil || item.Media == nil {
			t.Fatalf("%s: API evidence item without media: %v", role, err)
		}
		if got := len(item.Media.Metadata) > 0; got != wantMeta {
			t.Errorf("%s: metadata in the API: %v, want %v", role, got, wantMeta)
		}
		for _, m := range item.Media.Group.Members {
			if m.Slug == "bridge-witness" && role == account.Public {
				t.Errorf("the public API names the personal-data member")
			}
		}
	}

	// A viewer may not fetch a personal-data original, so neither its
	// metadata (camera, GPS) through the API.
	var witness struct {
		Media *struct {
			Metadata json.RawMessage `json:"metadata"`
		} `json:"media"`
	}
	json.Unmarshal([]byte(body(t, s.do(t, account.Viewer, "GET", "/api/v1/evidence/bridge-witness", "", nil))), &witness)
	if witness.Media == nil || len(witness.Media.Metadata) > 0 {
		t.Errorf("a viewer got the personal-data item's metadata: %+v", witness.Media)
	}

	video := body(t, s.do(t, account.Viewer, "GET", "/evidence/chair", "", nil))
	i := strings.Index(video, "/evidence/chair/keyframes/")
	if i < 0 {
		t.Fatal("the video's page links no keyframe")
	}
	link := video[i : i+len("/evidence/chair/keyframes/")+64]
	resp := s.do(t, account.Viewer, "GET", link, "", nil)
	if b := body(t, resp); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(b, "\x89PNG") {
		t.Errorf("keyframe: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// A keyframe is served only under the item it belongs to.
	if resp := s.do(t, account.Viewer, "GET", "/evidence/bridge-original/keyframes/"+link[len(link)-64:], "", nil); resp.StatusCode != 404 {
		t.Errorf("another item's keyframe: %d, want 404", resp.StatusCode)
	}
}

// An upload is stored at once and analysed by the job queue after: the
// analysis and the match with an earlier copy appear on the item.
func TestUploadIsAnalysed(t *testing.T) {
	s := newSite(t)
	dih := filepath.Join(pdqData, "images", "reg-test-input", "dih")
	s.addMedia(t, filepath.Join(dih, "bridge-1-original.jpg"), "bridge-original", nil, false)
	mirrored, err := os.ReadFile(filepath.Join(dih, "bridge-6-flipy.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("reason", "a copy sent by a source")
	fw, _ := mw.CreateFormFile("files", "copy.jpg")
	fw.Write(mirrored)
	mw.Close()
	resp := s.do(t, account.Analyst, "POST", "/api/v1/incidents/ganja-missile-strike-2020-10-11/evidence", buf.String(),
		map[string]string{"Content-Type": mw.FormDataContentType()})
	var out struct{ Evidence []string }
	if err := json.Unmarshal([]byte(body(t, resp)), &out); err != nil || resp.StatusCode != 201 || len(out.Evidence) != 1 {
		t.Fatalf("upload: %d %v %v", resp.StatusCode, out, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		page := body(t, s.do(t, account.Editor, "GET", "/evidence/"+out.Evidence[0], "", nil))
		if strings.Contains(page, "Media group: 2 items") && strings.Contains(page, "mirrored") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the upload was not analysed and grouped within a minute")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
