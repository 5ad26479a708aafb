// SPDX-License-Identifier: Apache-2.0

package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

// grow appends n entries named by prefix and returns the new checkpoint.
func grow(t *testing.T, l *Ledger, prefix string, n int) *Checkpoint {
	t.Helper()
	var es [][]byte
	for i := range n {
		es = append(es, fmt.Appendf(nil, "%s %d", prefix, i))
	}
	appendRaw(t, l, es)
	cp, err := l.Latest()
	if err != nil || cp == nil {
		t.Fatalf("Latest() = %v, %v; want a checkpoint", cp, err)
	}
	return cp
}

// copyLedger copies a ledger directory, as a backup would, and opens the
// copy.
func copyLedger(t *testing.T, l *Ledger) *Ledger {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "ledger")
	if err := os.CopyFS(dst, os.DirFS(l.dir)); err != nil {
		t.Fatal(err)
	}
	c, err := Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newWitness(t *testing.T, logs ...note.Verifier) (*WitnessServer, *httptest.Server) {
	t.Helper()
	ws, err := NewWitnessServer(filepath.Join(t.TempDir(), "witness"), "witness.example.org", logs)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ws)
	t.Cleanup(srv.Close)
	return ws, srv
}

func addCheckpointBody(old uint64, proof [][]byte, cp []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "old %d\n", old)
	for _, h := range proof {
		b.WriteString(base64.StdEncoding.EncodeToString(h) + "\n")
	}
	b.WriteString("\n")
	b.Write(cp)
	return b.String()
}

func TestWitnessServerProtocol(t *testing.T) {
	l := newLedger(t)
	cp3 := grow(t, l, "a", 3)
	cp7 := grow(t, l, "b", 4)
	proof37, err := l.consistency(t.Context(), 3, 7)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([][]byte{}, proof37...)
	bad[0] = bytes.Repeat([]byte{1}, 32)
	fork := newLedger(t) // same origin, another key
	forkCP := grow(t, fork, "c", 7)
	// The log's own key signing another tree of size 7.
	sum := sha256.Sum256([]byte("another tree"))
	forged, err := note.Sign(&note.Note{Text: fmt.Sprintf("%s\n7\n%s\n", l.Origin(), base64.StdEncoding.EncodeToString(sum[:]))}, l.keys.signer)
	if err != nil {
		t.Fatal(err)
	}

	ws, srv := newWitness(t, l.Verifier())
	wv, err := fnote.NewVerifierForCosignatureV1(ws.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	// The steps run in order against one witness: each depends on the
	// state the ones before left.
	steps := []struct {
		name     string
		body     string
		wantCode int
		wantBody string // for 409: the size; for 200: checked as a cosignature
	}{
		{"first checkpoint", addCheckpointBody(0, nil, cp3.Raw), 200, ""},
		{"stale old size", addCheckpointBody(0, nil, cp7.Raw), 409, "3\n"},
		{"bad proof", addCheckpointBody(3, bad, cp7.Raw), 422, ""},
		{"signed by another key", addCheckpointBody(3, proof37, forkCP.Raw), 403, ""},
		{"unknown log", addCheckpointBody(0, nil, []byte("other.example/log\n1\n"+base64.StdEncoding.EncodeToString(sum[:])+"\n\n— other.example/log AAAA\n")), 404, ""},
		{"no blank line", "old 3\n", 400, ""},
		{"good proof", addCheckpointBody(3, proof37, cp7.Raw), 200, ""},
		{"same checkpoint again", addCheckpointBody(7, nil, cp7.Raw), 200, ""},
		{"rolled back", addCheckpointBody(3, nil, cp3.Raw), 409, "7\n"},
		{"smaller than old", addCheckpointBody(7, nil, cp3.Raw), 400, ""},
		{"another tree of the same size", addCheckpointBody(7, nil, forged), 409, "7\n"},
	}
	for _, s := range steps {
		resp, err := http.Post(srv.URL+"/add-checkpoint", "text/plain", strings.NewReader(s.body))
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != s.wantCode {
			t.Errorf("%s: POST add-checkpoint = %d %q, want %d", s.name, resp.StatusCode, got, s.wantCode)
			continue
		}
		switch s.wantCode {
		case 409:
			if string(got) != s.wantBody || resp.Header.Get("Content-Type") != "text/x.tlog.size" {
				t.Errorf("%s: 409 answer %q (%s), want %q (text/x.tlog.size)", s.name, got, resp.Header.Get("Content-Type"), s.wantBody)
			}
		case 200:
			_, _, raw, _ := parseAddCheckpoint([]byte(s.body))
			if _, err := cosignedNote(raw, got, wv); err != nil {
				t.Errorf("%s: cosignature %q: %v", s.name, got, err)
			}
		}
	}
}

func TestCosignDetectsRollback(t *testing.T) {
	l := newLedger(t)
	ws, srv := newWitness(t, l.Verifier())
	if err := l.AddWitness("partner", srv.URL, ws.VerifierKey()); err != nil {
		t.Fatal(err)
	}
	small := grow(t, l, "a", 5)
	if errs := l.Cosign(t.Context(), srv.Client(), small); len(errs) != 0 {
		t.Fatalf("Cosign(5) = %v, want no error", errs)
	}
	backup := copyLedger(t, l)
	big := grow(t, l, "b", 3)
	if errs := l.Cosign(t.Context(), srv.Client(), big); len(errs) != 0 {
		t.Fatalf("Cosign(8) = %v, want no error", errs)
	}
	problems, warnings, rolledBack, err := l.CheckWitnesses(t.Context(), srv.Client(), time.Now())
	if err != nil || len(problems)+len(warnings) != 0 || rolledBack != 0 {
		t.Fatalf("CheckWitnesses on the grown ledger = %q, %q, %d, %v; want nothing", problems, warnings, rolledBack, err)
	}

	// The backup, cosignatures included, is consistent with itself; only
	// the witness knows of the larger tree.
	problems, _, rolledBack, err = backup.CheckWitnesses(t.Context(), srv.Client(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := "ledger rolled back: witness partner saw a tree of 8 entries, the ledger here holds 5"
	if rolledBack != 8 || len(problems) != 1 || !strings.HasPrefix(problems[0], want) {
		t.Errorf("CheckWitnesses on the restored backup = %q, %d; want [%q...], 8", problems, rolledBack, want)
	}
	var rb *RollbackError
	if errs := backup.Cosign(t.Context(), srv.Client(), grow(t, backup, "fork", 1)); len(errs) != 1 || !errors.As(errs[0], &rb) || !rb.Inconsistent && rb.Seen != 8 {
		t.Errorf("Cosign of a fork of the backup = %v, want a *RollbackError", errs)
	}

	// A witness that is down is a warning naming how stale it is.
	srv.Close()
	problems, warnings, _, err = l.CheckWitnesses(t.Context(), http.DefaultClient, time.Now())
	if err != nil || len(problems) != 0 || len(warnings) != 1 || !strings.Contains(warnings[0], "its newest cosignature covers 8 of 8 entries, from ") {
		t.Errorf("CheckWitnesses with the witness down = %q, %q, %v; want one warning saying how stale the witness is", problems, warnings, err)
	}
}

func TestWitnessFile(t *testing.T) {
	l := newLedger(t)
	file := filepath.Join(t.TempDir(), "state", "log.checkpoint")
	l.SetWitnessFile(file)
	ctx := t.Context()
	if err := l.advanceWitnessFile(ctx, grow(t, l, "a", 4)); err != nil {
		t.Fatal(err)
	}
	backup := copyLedger(t, l)
	backup.SetWitnessFile(file)
	if err := l.advanceWitnessFile(ctx, grow(t, l, "b", 3)); err != nil {
		t.Fatal(err)
	}
	if seen, err := l.CheckWitnessFile(ctx); err != nil || seen.Size != 7 {
		t.Fatalf("CheckWitnessFile() on the grown ledger = %v, %v; want size 7, nil", seen, err)
	}

	var rb *RollbackError
	if _, err := backup.CheckWitnessFile(ctx); !errors.As(err, &rb) || rb.Seen != 7 || rb.Have != 4 || rb.Inconsistent {
		t.Errorf("CheckWitnessFile() on the restored backup = %v, want a rollback from 7 to 4", err)
	}
	// The backup, grown past the witnessed size with other entries: a
	// fork, not an extension.
	grow(t, backup, "fork", 5)
	if _, err := backup.CheckWitnessFile(ctx); !errors.As(err, &rb) || !rb.Inconsistent || rb.Seen != 7 || rb.Have != 9 {
		t.Errorf("CheckWitnessFile() on the forked backup = %v, want an inconsistency between 7 and 9", err)
	}
	cp, _ := backup.Latest()
	if err := backup.advanceWitnessFile(ctx, cp); !errors.As(err, &rb) {
		t.Errorf("advanceWitnessFile(fork) = %v, want a *RollbackError and the file untouched", err)
	}
	if seen, _ := l.CheckWitnessFile(ctx); seen == nil || seen.Size != 7 {
		t.Errorf("witness file after the refused fork: %v, want still size 7", seen)
	}
}

func TestOldCheckpoint(t *testing.T) {
	l := newLedger(t)
	cp := grow(t, l, "a", 2)
	other := newLedger(t)
	otherCP := grow(t, other, "x", 1)
	tests := []struct {
		name        string
		raw         []byte
		wantReceipt bool
		wantErr     string
	}{
		{"checkpoint", cp.Raw, false, ""},
		{"verifier key", []byte(l.VerifierKey() + "\n"), false, "the file is a verifier key"},
		{"unsigned body", bytes.SplitN(cp.Raw, []byte("\n\n"), 2)[0], false, "an unsigned checkpoint body"},
		{"another key of the same name", otherCP.Raw, false, "does not verify"},
		{"binary", []byte{0x89, 'P', 'N', 'G'}, false, "not a checkpoint or a receipt"},
		{"broken receipt", []byte("c2sp.org/tlog-proof@v1\nindex x\n"), true, "a receipt (tlog-proof) that cannot be read"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, fromReceipt, err := OldCheckpoint(tc.raw, l.Verifier())
			if tc.wantErr == "" {
				if err != nil || got.Size != cp.Size {
					t.Errorf("OldCheckpoint() = %v, %v; want size %d", got, err, cp.Size)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || fromReceipt != tc.wantReceipt {
				t.Errorf("OldCheckpoint() = %v, %v; want an error containing %q", fromReceipt, err, tc.wantErr)
			}
		})
	}
}

func FuzzParseAddCheckpoint(f *testing.F) {
	f.Add([]byte("old 0\n\nexample.org/log\n1\nAAAA\n\n— example.org/log AAAA\n"))
	f.Add([]byte("old 3\n" + strings.Repeat(base64.StdEncoding.EncodeToString(make([]byte, 32))+"\n", 2) + "\ncheckpoint"))
	f.Add([]byte("old 01\n\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		old, proof, cp, err := parseAddCheckpoint(body)
		if err != nil {
			return
		}
		// What parses is what a client would have sent.
		if again := addCheckpointBody(old, proof, cp); again != string(body) {
			t.Errorf("parseAddCheckpoint(%q) = %d, %d hashes, %q: re-encoded as %q", body, old, len(proof), cp, again)
		}
	})
}

func FuzzParseWitnesses(f *testing.F) {
	f.Add([]byte("partner https://w.example.org witness.example.org+01234567+BAAA\n# comment\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ws, err := parseWitnesses(b)
		if err != nil {
			return
		}
		for _, w := range ws {
			if w.Verifier == nil || !tsaNameRE.MatchString(w.Name) {
				t.Errorf("parseWitnesses(%q) accepted %+v", b, w)
			}
		}
	})
}

func FuzzOldCheckpoint(f *testing.F) {
	dir := filepath.Join(f.TempDir(), "ledger")
	if err := Init(dir, "example.org/fuzz-log"); err != nil {
		f.Fatal(err)
	}
	l, err := Open(dir)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(l.VerifierKey()))
	f.Add([]byte("c2sp.org/tlog-proof@v1\nindex 0\n\nexample.org/fuzz-log\n1\nAAAA\n"))
	f.Add([]byte("example.org/fuzz-log\n1\nAAAA\n\n— example.org/fuzz-log AAAA\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		cp, _, err := OldCheckpoint(raw, l.Verifier())
		if err == nil {
			t.Errorf("OldCheckpoint(%q) = %v: accepted without the log's signature", raw, cp)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("OldCheckpoint(%q): error %q is not one line", raw, err)
		}
	})
}
