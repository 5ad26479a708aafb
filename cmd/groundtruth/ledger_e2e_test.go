// SPDX-License-Identifier: Apache-2.0

package main

// End-to-end tests of the ledger: tampering that verify must find, receipts
// checked offline and independently, consistency proofs, and acknowledged
// ingests surviving SIGKILL with valid receipts.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/transparency-dev/formats/proof"
	"github.com/transparency-dev/tessera/api/layout"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	_ "modernc.org/sqlite"
)

// runNoData runs the binary in dir with no --data flag (and no
// GROUNDTRUTH_DATA in its environment).
func runNoData(t *testing.T, dir string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = testEnv()
	cmd.Dir = dir
	return finish(t, ctx, cmd, args)
}

// writeFiles writes one file per content into dir and returns their paths.
func writeFiles(t *testing.T, dir, prefix string, contents ...string) []string {
	t.Helper()
	var paths []string
	for i, c := range contents {
		p := filepath.Join(dir, fmt.Sprintf("%s%d.txt", prefix, i+1))
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// parseAcks parses ingest output, all of whose lines must be
// acknowledgements.
func parseAcks(t *testing.T, out string) []ack {
	t.Helper()
	var acks []ack
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		m := ackRE.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("ingest: got line %q, want \"stored|known SHA256 SLUG PATH\"", l)
		}
		acks = append(acks, ack{m[1], m[2], m[3], m[4]})
	}
	return acks
}

// ledgerOrigin returns the ledger's origin: the name of its key, as
// "ledger key" prints it.
func ledgerOrigin(t *testing.T, data string) string {
	t.Helper()
	key := strings.TrimSpace(mustRun(t, data, "ledger", "key"))
	origin, _, ok := strings.Cut(key, "+")
	if !ok || origin == "" {
		t.Fatalf("ledger key: got %q, want ORIGIN+HASH+KEY", key)
	}
	return origin
}

// cpBody is the body of a checkpoint note.
type cpBody struct {
	origin string
	size   int64
	root   tlog.Hash
}

// parseCheckpointBody reads origin, size and root from a checkpoint note
// without checking its signature.
func parseCheckpointBody(t *testing.T, raw []byte) cpBody {
	t.Helper()
	lines := strings.Split(string(raw), "\n")
	if len(lines) < 3 {
		t.Fatalf("checkpoint %q: got %d lines, want at least 3", raw, len(lines))
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		t.Fatalf("checkpoint %q: size line %q: %v", raw, lines[1], err)
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		t.Fatalf("checkpoint %q: root line %q is not a base64 SHA-256 hash", raw, lines[2])
	}
	return cpBody{origin: lines[0], size: size, root: tlog.Hash(root)}
}

// otherSigner returns a new key of the same origin as the log's.
func otherSigner(t *testing.T, origin string) (note.Signer, note.Verifier, string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v, vkey
}

// forgeCheckpoint replaces the signature line (the last line) of a
// checkpoint with one made by another key of the same origin over a body
// with another root.
func forgeCheckpoint(t *testing.T, raw []byte, origin string) []byte {
	t.Helper()
	body := parseCheckpointBody(t, raw)
	fake := sha256.Sum256([]byte("a forged tree"))
	text := fmt.Sprintf("%s\n%d\n%s\n", body.origin, body.size, base64.StdEncoding.EncodeToString(fake[:]))
	signer, _, _ := otherSigner(t, origin)
	signed, err := note.Sign(&note.Note{Text: text}, signer)
	if err != nil {
		t.Fatal(err)
	}
	return replaceLastLine(t, raw, lastLine(t, signed))
}

func lastLine(t *testing.T, b []byte) string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	return lines[len(lines)-1]
}

func replaceLastLine(t *testing.T, b []byte, line string) []byte {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if lines[len(lines)-1] == line {
		t.Fatalf("replacing line %q by itself", line)
	}
	lines[len(lines)-1] = line
	return []byte(strings.Join(lines, "\n") + "\n")
}

// alterSignatureLine changes one base64 character in the middle of the
// signature on the last line, keeping it valid base64.
func alterSignatureLine(t *testing.T, b []byte) []byte {
	t.Helper()
	l := lastLine(t, b)
	i := strings.LastIndex(l, " ")
	sig := []byte(l[i+1:])
	j := len(sig) / 2
	if sig[j] == 'A' {
		sig[j] = 'B'
	} else {
		sig[j] = 'A'
	}
	return replaceLastLine(t, b, l[:i+1]+string(sig))
}

// archivedSizes returns the tree sizes of the checkpoint archive, sorted.
func archivedSizes(t *testing.T, data string) []uint64 {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(data, "ledger", "checkpoints"))
	if err != nil {
		t.Fatal(err)
	}
	var sizes []uint64
	for _, e := range entries {
		n, err := strconv.ParseUint(e.Name(), 10, 64)
		if err == nil {
			sizes = append(sizes, n)
		}
	}
	slices.Sort(sizes)
	return sizes
}

// publishedSize returns the tree size of the published checkpoint.
func publishedSize(t *testing.T, data string) uint64 {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(data, "ledger", "log", "checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	return uint64(parseCheckpointBody(t, raw).size)
}

// rewrite applies f to a file's bytes, making it writable first and
// restoring its mode after.
func rewrite(t *testing.T, path string, f func([]byte) []byte) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, fi.Mode().Perm()|0o200); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	nb := f(bytes.Clone(b))
	if bytes.Equal(nb, b) {
		t.Fatalf("tampering left %s as it was", path)
	}
	if err := os.WriteFile(path, nb, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, fi.Mode().Perm()); err != nil {
		t.Fatal(err)
	}
}

// execSQL runs one statement on the data directory's database and
// requires it to change exactly one row.
func execSQL(t *testing.T, data, stmt string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "groundtruth.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(stmt, args...)
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("%s: got %d rows changed (%v), want 1", stmt, n, err)
	}
}

func lockerPath(data, sum string) string {
	return filepath.Join(data, "locker", sum[0:2], sum[2:4], sum)
}

var verifySummaryRE = regexp.MustCompile(`^verify: \d+ problem\(s\) in \d+ original\(s\)$`)

func TestLedgerTamper(t *testing.T) {
	template, _ := demoData(t)
	files := writeFiles(t, t.TempDir(), "f", "tamper test file one\n", "tamper test file two\n", "tamper test file three\n")
	ingested := parseAcks(t, mustRun(t, template, append(append([]string{"ingest"}, files...), "--incident", "hadrut-execution")...))
	if len(ingested) != 3 {
		t.Fatalf("ingest: got %d lines, want 3", len(ingested))
	}
	if res := run(t, template, "verify"); res.code != 0 || !strings.HasPrefix(res.stdout, "verify: ok") {
		t.Fatalf("verify before tampering: got exit status %d and %q, want 0 and \"verify: ok ...\"", res.code, res.stdout)
	}
	origin := ledgerOrigin(t, template)
	size := publishedSize(t, template)
	sizes := archivedSizes(t, template)
	if len(sizes) < 3 || sizes[len(sizes)-1] != size {
		t.Fatalf("checkpoint archive: got sizes %v, want at least 3 ending with the published size %d", sizes, size)
	}
	// The level-0 tile and the entry bundle the published tree ends in.
	lastTile := (size - 1) / layout.TileWidth
	tile := filepath.Join("ledger", "log", filepath.FromSlash(layout.TilePath(0, lastTile, layout.PartialTileSize(0, lastTile, size))))
	bundle := filepath.Join("ledger", "log", filepath.FromSlash(layout.EntriesPathForLogIndex(size-1, size)))
	// A partial tile of an earlier, smaller tree, which receipts for the
	// demo's items (logged before the ingest) are built from.
	older := sizes[len(sizes)-2]
	olderTile := filepath.Join("ledger", "log", filepath.FromSlash(layout.TilePath(0, (older-1)/layout.TileWidth, layout.PartialTileSize(0, (older-1)/layout.TileWidth, older))))
	sum0 := ingested[0].sum

	tests := []struct {
		name   string
		tamper func(t *testing.T, data string)
		// want: some PROBLEM line holds every string of one of these.
		want [][]string
	}{
		{"flipped byte in an original", func(t *testing.T, data string) {
			rewrite(t, lockerPath(data, sum0), func(b []byte) []byte { b[len(b)/2] ^= 0x01; return b })
		}, [][]string{{"bytes have changed"}}},
		{"deleted original", func(t *testing.T, data string) {
			if err := os.Remove(lockerPath(data, sum0)); err != nil {
				t.Fatal(err)
			}
		}, [][]string{{"missing from the locker"}}},
		{"record body changed in the database", func(t *testing.T, data string) {
			execSQL(t, data, `UPDATE records SET body = replace(body, 'Bellingcat', 'Bellingkat') WHERE kind='actor' AND slug='bellingcat'`)
		}, [][]string{{"actor bellingcat", "changed outside groundtruth"}}},
		{"claim deleted from the database", func(t *testing.T, data string) {
			for _, table := range []string{"records", "record_history"} {
				execSQL(t, data, `DELETE FROM `+table+` WHERE kind = 'claim' AND slug = 'hadrut-videos-fake-azerbaijani-officials'`)
			}
		}, [][]string{{"claim hadrut-videos-fake-azerbaijani-officials", "deleted outside groundtruth"}}},
		{"claim retired in the database", func(t *testing.T, data string) {
			execSQL(t, data, `UPDATE records SET retired_at = '2026-01-01T00:00:00Z' WHERE kind = 'claim' AND slug = 'hadrut-videos-fake-azerbaijani-officials'`)
		}, [][]string{{"claim hadrut-videos-fake-azerbaijani-officials", "retired"}}},
		{"history author forged", func(t *testing.T, data string) {
			execSQL(t, data, `UPDATE record_history SET changed_by = 'someone-else' WHERE kind = 'actor' AND slug = 'bellingcat'`)
		}, [][]string{{"actor bellingcat", "who or why"}}},
		{"blob size changed in the database", func(t *testing.T, data string) {
			execSQL(t, data, `UPDATE blobs SET size = size + 1 WHERE sha256 = $1`, sum0)
		}, [][]string{{sum0, "does not match its ledger leaf"}}},
		{"truncated tile", func(t *testing.T, data string) {
			rewrite(t, filepath.Join(data, tile), func(b []byte) []byte { return b[:len(b)-32] })
		}, [][]string{{"log tiles"}}},
		{"edited tile", func(t *testing.T, data string) {
			rewrite(t, filepath.Join(data, tile), func(b []byte) []byte { b[len(b)/2] ^= 0x01; return b })
		}, [][]string{{"log tiles"}}},
		// Receipts of the demo's items are built from this tile (see
		// Ledger.Receipt: the smallest archived checkpoint covering the
		// leaf); a log whose receipts cannot be built is not intact.
		{"truncated tile of an earlier tree", func(t *testing.T, data string) {
			rewrite(t, filepath.Join(data, olderTile), func(b []byte) []byte { return b[:len(b)-32] })
		}, [][]string{{"tile"}}},
		{"edited entry bundle", func(t *testing.T, data string) {
			rewrite(t, filepath.Join(data, bundle), func(b []byte) []byte { b[len(b)-10] ^= 0x01; return b })
		}, [][]string{{"differs from the leaf"}, {"root"}, {"log entries"}, {"log tiles"}}},
		{"forged published checkpoint", func(t *testing.T, data string) {
			rewrite(t, filepath.Join(data, "ledger", "log", "checkpoint"), func(b []byte) []byte { return forgeCheckpoint(t, b, origin) })
		}, [][]string{{"published checkpoint"}}},
		{"forged archived checkpoint", func(t *testing.T, data string) {
			rewrite(t, filepath.Join(data, "ledger", "checkpoints", strconv.FormatUint(size, 10)), func(b []byte) []byte { return forgeCheckpoint(t, b, origin) })
		}, [][]string{{"forged or damaged"}}},
		{"rolled-back checkpoint archive", func(t *testing.T, data string) {
			// Delete the newest checkpoints, keeping the older ones.
			for _, s := range sizes[len(sizes)/2+1:] {
				if err := os.Remove(filepath.Join(data, "ledger", "checkpoints", strconv.FormatUint(s, 10))); err != nil {
					t.Fatal(err)
				}
			}
		}, [][]string{{"rolled back"}}},
		{"deleted ledger leaf row", func(t *testing.T, data string) {
			execSQL(t, data, `DELETE FROM ledger_leaves WHERE seq = (SELECT MAX(seq) FROM ledger_leaves)`)
		}, [][]string{{"no leaf in the database matches"}, {"no ledger leaf"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := filepath.Join(t.TempDir(), "data")
			copyDir(t, template, data)
			tc.tamper(t, data)

			res := run(t, data, "verify")
			if res.code != 1 {
				t.Errorf("verify: got exit status %d, want 1 (stdout %q, stderr %q)", res.code, res.stdout, res.stderr)
			}
			lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
			var problems []string
			for _, l := range lines {
				if strings.HasPrefix(l, "PROBLEM ") {
					problems = append(problems, l)
				}
			}
			if len(problems) == 0 {
				t.Errorf("verify: got stdout %q (stderr %q), want at least one line starting with \"PROBLEM \"", res.stdout, res.stderr)
			}
			found := false
			for _, l := range problems {
				for _, alt := range tc.want {
					all := true
					for _, w := range alt {
						all = all && strings.Contains(l, w)
					}
					found = found || all
				}
			}
			if !found {
				t.Errorf("verify: got problem lines %q, want one holding all of one of %q", problems, tc.want)
			}
			if last := lines[len(lines)-1]; !verifySummaryRE.MatchString(last) {
				t.Errorf("verify: got last line %q, want \"verify: N problem(s) in M original(s)\"", last)
			}
		})
	}
}

// receiptExtraJSON is the part of a receipt's extra data this test reads.
type receiptExtraJSON struct {
	Leaf   string `json:"leaf"`
	SHA256 string `json:"sha256"`
}

func TestReceipts(t *testing.T) {
	data, _ := demoData(t)
	work := t.TempDir()
	file := writeFiles(t, work, "receipt-", "a file to hold a receipt for\n")[0]
	other := writeFiles(t, work, "other-", "another file, never ingested\n")[0]
	acks := parseAcks(t, mustRun(t, data, "ingest", file, "--incident", "hadrut-execution"))
	if len(acks) != 1 || acks[0].state != "stored" {
		t.Fatalf("ingest: got %+v, want one stored line", acks)
	}
	slug, sum := acks[0].slug, acks[0].sum
	receipt := filepath.Join(work, "r.tlog-proof")
	if out := mustRun(t, data, "receipt", slug, "--out", receipt); out != "wrote "+receipt+"\n" {
		t.Errorf("receipt: got %q, want %q", out, "wrote "+receipt+"\n")
	}
	keyText := strings.TrimSpace(mustRun(t, data, "ledger", "key"))
	origin, _, _ := strings.Cut(keyText, "+")
	raw, err := os.ReadFile(receipt)
	if err != nil {
		t.Fatal(err)
	}

	// Move the data directory away: verify-receipt needs none.
	moved := filepath.Join(t.TempDir(), "moved-away")
	if err := os.Rename(data, moved); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(moved, "ledger", "key.pub")
	if b, err := os.ReadFile(keyFile); err != nil || strings.TrimSpace(string(b)) != keyText {
		t.Fatalf("key.pub: got %q (%v), want the key ledger key printed, %q", b, err, keyText)
	}
	elsewhere := t.TempDir()

	verifyOK := func(t *testing.T, args ...string) {
		t.Helper()
		res := runNoData(t, elsewhere, args...)
		if res.code != 0 || !strings.HasPrefix(res.stdout, "OK ") {
			t.Errorf("verify-receipt: got exit status %d and %q (stderr %q), want 0 and \"OK ...\"", res.code, res.stdout, res.stderr)
		}
		if !strings.Contains(res.stdout, sum) {
			t.Errorf("verify-receipt: got %q, want it to name sha256 %s", res.stdout, sum)
		}
	}
	verifyFailed := func(t *testing.T, args ...string) {
		t.Helper()
		res := runNoData(t, elsewhere, args...)
		if res.code != 1 || !strings.HasPrefix(res.stdout, "FAILED") {
			t.Errorf("verify-receipt: got exit status %d and %q (stderr %q), want 1 and \"FAILED ...\"", res.code, res.stdout, res.stderr)
		}
	}
	writeReceipt := func(t *testing.T, b []byte) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), "altered.tlog-proof")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}

	t.Run("key file", func(t *testing.T) {
		verifyOK(t, "verify-receipt", receipt, file, "--key", keyFile)
	})
	t.Run("key text", func(t *testing.T) {
		verifyOK(t, "verify-receipt", receipt, file, "--key", keyText)
	})
	t.Run("no file", func(t *testing.T) {
		verifyOK(t, "verify-receipt", receipt, "--key", keyText)
	})
	t.Run("no data directory was created", func(t *testing.T) {
		entries, err := os.ReadDir(elsewhere)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 0 {
			t.Errorf("working directory of verify-receipt: got %d entries (first %q), want none", len(entries), entries[0].Name())
		}
	})
	t.Run("a different file", func(t *testing.T) {
		verifyFailed(t, "verify-receipt", receipt, other, "--key", keyFile)
	})
	t.Run("index line changed", func(t *testing.T) {
		re := regexp.MustCompile(`(?m)^index (\d+)$`)
		m := re.FindSubmatch(raw)
		if m == nil {
			t.Fatalf("receipt %q: no index line", raw)
		}
		i, _ := strconv.ParseUint(string(m[1]), 10, 64)
		altered := re.ReplaceAll(raw, []byte(fmt.Sprintf("index %d", i^1)))
		verifyFailed(t, "verify-receipt", writeReceipt(t, altered), file, "--key", keyFile)
	})
	t.Run("checkpoint signature altered", func(t *testing.T) {
		verifyFailed(t, "verify-receipt", writeReceipt(t, alterSignatureLine(t, raw)), file, "--key", keyFile)
	})
	t.Run("wrong key of the same origin", func(t *testing.T) {
		_, _, vkey := otherSigner(t, origin)
		verifyFailed(t, "verify-receipt", receipt, file, "--key", vkey)
	})
	t.Run("bad usage", func(t *testing.T) {
		for _, args := range [][]string{
			{"verify-receipt", receipt, file},
			{"verify-receipt", filepath.Join(elsewhere, "no-such-receipt"), file, "--key", keyFile},
			{"verify-receipt", "--key", keyFile},
			{"verify-receipt", receipt, file, "--key", "not a key"},
		} {
			res := runNoData(t, elsewhere, args...)
			if res.code != 2 {
				t.Errorf("%s: got exit status %d, want 2 (stdout %q, stderr %q)", strings.Join(args, " "), res.code, res.stdout, res.stderr)
			}
		}
	})

	t.Run("independent check with x/mod tlog", func(t *testing.T) {
		var p proof.TLogProof
		if err := p.Unmarshal(raw); err != nil {
			t.Fatalf("receipt: %v", err)
		}
		var extra receiptExtraJSON
		if err := json.Unmarshal(p.ExtraData, &extra); err != nil {
			t.Fatalf("receipt extra data %q: %v", p.ExtraData, err)
		}
		if extra.Leaf == "" || extra.SHA256 != sum {
			t.Fatalf("receipt extra data: got leaf %q sha256 %q, want a leaf and %s", extra.Leaf, extra.SHA256, sum)
		}
		v, err := note.NewVerifier(keyText)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := note.Open(p.Checkpoint, note.VerifierList(v)); err != nil {
			t.Errorf("receipt checkpoint: got %v, want a valid signature of %s", err, v.Name())
		}
		cp := parseCheckpointBody(t, p.Checkpoint)
		hashes := make(tlog.RecordProof, len(p.Hashes))
		for i, h := range p.Hashes {
			hashes[i] = tlog.Hash(h)
		}
		if err := tlog.CheckRecord(hashes, cp.size, cp.root, int64(p.Index), tlog.RecordHash([]byte(extra.Leaf))); err != nil {
			t.Errorf("tlog.CheckRecord(index %d, size %d): got %v, want nil", p.Index, cp.size, err)
		}
	})
}

// consistencyOutput is what "ledger consistency" prints.
type consistencyOutput struct {
	proof      tlog.TreeProof
	checkpoint []byte
}

func parseConsistency(t *testing.T, out string) consistencyOutput {
	t.Helper()
	var c consistencyOutput
	lines := strings.SplitAfter(out, "\n")
	i := 0
	for ; i < len(lines) && !strings.HasPrefix(lines[i], "proof ("); i++ {
	}
	var n int
	if i == len(lines) {
		t.Fatalf("ledger consistency: got %q, want a line \"proof (N hashes):\"", out)
	}
	if _, err := fmt.Sscanf(lines[i], "proof (%d hashes):", &n); err != nil {
		t.Fatalf("ledger consistency: got line %q, want \"proof (N hashes):\"", lines[i])
	}
	i++
	for j := 0; j < n; j++ {
		if i+j >= len(lines) {
			t.Fatalf("ledger consistency: got %q, want %d proof hashes", out, n)
		}
		h, err := base64.StdEncoding.DecodeString(strings.TrimSpace(lines[i+j]))
		if err != nil || len(h) != tlog.HashSize {
			t.Fatalf("ledger consistency: got proof line %q, want a base64 SHA-256 hash", lines[i+j])
		}
		c.proof = append(c.proof, tlog.Hash(h))
	}
	i += n
	if i >= len(lines) || lines[i] != "current checkpoint:\n" {
		t.Fatalf("ledger consistency: got %q, want \"current checkpoint:\" after the proof", out)
	}
	c.checkpoint = []byte(strings.Join(lines[i+1:], ""))
	return c
}

func TestLedgerConsistency(t *testing.T) {
	data, _ := demoData(t)
	work := t.TempDir()
	var oldSize uint64
	for _, s := range archivedSizes(t, data) {
		if s > 0 {
			oldSize = s
			break
		}
	}
	if oldSize == 0 {
		t.Fatalf("checkpoint archive after load --demo: got sizes %v, want a non-zero one", archivedSizes(t, data))
	}
	oldRaw, err := os.ReadFile(filepath.Join(data, "ledger", "checkpoints", strconv.FormatUint(oldSize, 10)))
	if err != nil {
		t.Fatal(err)
	}
	oldCP := filepath.Join(work, "old.cp")
	if err := os.WriteFile(oldCP, oldRaw, 0o644); err != nil {
		t.Fatal(err)
	}
	old := parseCheckpointBody(t, oldRaw)
	files := writeFiles(t, work, "c", "consistency 1\n", "consistency 2\n", "consistency 3\n", "consistency 4\n", "consistency 5\n")
	mustRun(t, data, append([]string{"ingest"}, files...)...)
	keyText := strings.TrimSpace(mustRun(t, data, "ledger", "key"))
	v, err := note.NewVerifier(keyText)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("consistent", func(t *testing.T) {
		res := run(t, data, "ledger", "consistency", oldCP)
		if res.code != 0 || !strings.HasPrefix(res.stdout, "consistent") {
			t.Fatalf("ledger consistency: got exit status %d and %q (stderr %q), want 0 and \"consistent...\"", res.code, res.stdout, res.stderr)
		}
		c := parseConsistency(t, res.stdout)
		if _, err := note.Open(c.checkpoint, note.VerifierList(v)); err != nil {
			t.Errorf("current checkpoint %q: got %v, want a valid signature", c.checkpoint, err)
		}
		cur := parseCheckpointBody(t, c.checkpoint)
		if want := old.size + 10; cur.size < want {
			t.Errorf("current tree size: got %d, want at least %d (5 originals and 5 records more)", cur.size, want)
		}
		if want := fmt.Sprintf("the tree of %d entries in %s is a prefix of the current tree of %d entries", old.size, oldCP, cur.size); !strings.Contains(res.stdout, want) {
			t.Errorf("ledger consistency: got %q, want it to say %q", res.stdout, want)
		}
		if err := tlog.CheckTree(c.proof, cur.size, cur.root, old.size, old.root); err != nil {
			t.Errorf("tlog.CheckTree(%d → %d): got %v, want nil", old.size, cur.size, err)
		}
		if cur.root == old.root {
			t.Errorf("current root: got the old root %v, want another", cur.root)
		}
	})

	t.Run("checkpoint of another ledger", func(t *testing.T) {
		otherData := filepath.Join(t.TempDir(), "data")
		mustRun(t, otherData, "init")
		mustRun(t, otherData, "ingest", files[0])
		sizes := archivedSizes(t, otherData)
		foreign := filepath.Join(work, "foreign.cp")
		b, err := os.ReadFile(filepath.Join(otherData, "ledger", "checkpoints", strconv.FormatUint(sizes[len(sizes)-1], 10)))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(foreign, b, 0o644); err != nil {
			t.Fatal(err)
		}
		res := run(t, data, "ledger", "consistency", foreign)
		if res.code != 2 {
			t.Errorf("ledger consistency: got exit status %d (stdout %q, stderr %q), want 2", res.code, res.stdout, res.stderr)
		}
		if !strings.Contains(res.stderr, "does not verify") {
			t.Errorf("ledger consistency: got stderr %q, want it to say the signature does not verify", res.stderr)
		}
	})

	// A checkpoint the log's own key signed for another tree of the old
	// size (a fork) must be found inconsistent.
	t.Run("fork signed by the log's key", func(t *testing.T) {
		skey, err := os.ReadFile(filepath.Join(data, "ledger", "key"))
		if err != nil {
			t.Fatal(err)
		}
		signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
		if err != nil {
			t.Fatal(err)
		}
		fake := sha256.Sum256([]byte("a fork"))
		signed, err := note.Sign(&note.Note{Text: fmt.Sprintf("%s\n%d\n%s\n", old.origin, old.size, base64.StdEncoding.EncodeToString(fake[:]))}, signer)
		if err != nil {
			t.Fatal(err)
		}
		fork := filepath.Join(work, "fork.cp")
		if err := os.WriteFile(fork, signed, 0o644); err != nil {
			t.Fatal(err)
		}
		res := run(t, data, "ledger", "consistency", fork)
		if res.code != 1 || !strings.HasPrefix(res.stdout, "INCONSISTENT") {
			t.Errorf("ledger consistency: got exit status %d and %q (stderr %q), want 1 and \"INCONSISTENT ...\"", res.code, res.stdout, res.stderr)
		}
	})
}

// ledgerIngestKill runs ingest of files and kills it with SIGKILL after
// delay (if delay >= 0) or once it has read afterLines lines (if
// afterLines > 0), whichever comes first. It returns the complete lines
// read, each an acknowledgement, and whether the process was killed.
func ledgerIngestKill(t *testing.T, data string, files []string, delay time.Duration, afterLines int) (acks []ack, killed bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := command(ctx, data, append([]string{"ingest"}, files...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		r := bufio.NewReader(pipe)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				if line != "" {
					lines <- line // incomplete: not an acknowledgement
				}
				return
			}
			lines <- line
		}
	}()
	var timer <-chan time.Time
	if delay >= 0 {
		timer = time.After(delay)
	}
	kill := func() {
		if !killed {
			killed = true
			if err := cmd.Process.Kill(); err != nil {
				t.Logf("kill ingest: %v", err)
			}
		}
	}
	for done := false; !done; {
		select {
		case <-timer:
			kill()
			timer = nil
		case line, ok := <-lines:
			if !ok {
				done = true
				continue
			}
			if !strings.HasSuffix(line, "\n") {
				t.Logf("incomplete last line %q, not an acknowledgement", line)
				continue
			}
			m := ackRE.FindStringSubmatch(strings.TrimSuffix(line, "\n"))
			if m == nil {
				t.Errorf("ingest: got line %q, want \"stored|known SHA256 SLUG PATH\"", line)
				continue
			}
			acks = append(acks, ack{m[1], m[2], m[3], m[4]})
			if afterLines > 0 && len(acks) >= afterLines {
				kill()
			}
		}
	}
	err = cmd.Wait()
	if err == nil {
		return acks, false // finished before the kill
	}
	var ee *exec.ExitError
	if killed && errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return acks, true
		}
	}
	t.Fatalf("ingest: %v (stderr %q)", err, stderr.String())
	return nil, false
}

func TestLedgerCrash(t *testing.T) {
	start := time.Now()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := mrand.New(mrand.NewPCG(seed, 11))
	data, _ := demoData(t)
	dir := t.TempDir()
	keyFile := filepath.Join(data, "ledger", "key.pub")
	var demoItems []jEvidence
	runJSON(t, data, &demoItems, "evidence", "--json")

	const n = 1000
	files := make([]string, n)
	sumOf := map[string]string{} // path → sha256
	for i := range files {
		b := append([]byte(fmt.Sprintf("ledger crash test file %04d\n", i)), randomBytes(rng, 16+rng.IntN(256))...)
		files[i] = filepath.Join(dir, fmt.Sprintf("file-%04d.bin", i))
		if err := os.WriteFile(files[i], b, 0o644); err != nil {
			t.Fatal(err)
		}
		sumOf[files[i]] = sha256Hex(b)
	}
	sumIndex := map[string]int{} // sha256 → index in files
	for i, f := range files {
		sumIndex[sumOf[f]] = i
	}
	checkAck := func(t *testing.T, i int, a ack) {
		t.Helper()
		if i >= n || a.path != files[i] {
			t.Errorf("line %d: got path %q, want %q", i+1, a.path, files[min(i, n-1)])
			return
		}
		if want := sumOf[a.path]; a.sum != want || a.slug != "ev-"+want[:12] {
			t.Errorf("line %d: got sha256 %s slug %s, want %s ev-%s", i+1, a.sum, a.slug, want, want[:12])
		}
	}
	evidenceSums := func(t *testing.T) map[string]bool {
		t.Helper()
		var items []jEvidence
		runJSON(t, data, &items, "evidence", "--json")
		sums := map[string]bool{}
		for _, ev := range items {
			sums[ev.SHA256] = true
		}
		return sums
	}
	receiptOK := func(t *testing.T, a ack) {
		t.Helper()
		out := filepath.Join(dir, "x.tlog-proof")
		if res := run(t, data, "receipt", a.slug, "--out", out); res.code != 0 {
			t.Errorf("receipt %s: got exit status %d (stderr %q), want 0", a.slug, res.code, res.stderr)
			return
		}
		res := runNoData(t, dir, "verify-receipt", out, a.path, "--key", keyFile)
		if res.code != 0 || !strings.HasPrefix(res.stdout, "OK ") {
			t.Errorf("verify-receipt of %s: got exit status %d and %q (stderr %q), want 0 and \"OK ...\"", a.slug, res.code, res.stdout, res.stderr)
		}
	}

	acked := map[string]ack{} // sha256 → acknowledgement
	const rounds, sample = 20, 10
	killedRounds := 0
	for round := 1; round <= rounds; round++ {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			// Files are ingested in order, so the held ones are mostly a
			// prefix: a kill shortly after it hits the writing of new
			// originals and leaves, which spreads them over the rounds.
			held := 0
			for sum := range evidenceSums(t) {
				if _, ok := sumIndex[sum]; ok {
					held++
				}
			}
			delay, afterLines := time.Duration(-1), 0
			how := ""
			switch rng.IntN(4) {
			case 0, 1:
				delay = time.Duration(rng.Int64N(int64(1500 * time.Millisecond)))
				how = fmt.Sprintf("after %v", delay)
			case 2:
				afterLines = 1 + rng.IntN(n)
				how = fmt.Sprintf("after %d lines", afterLines)
			case 3:
				afterLines = held + 1 + rng.IntN(max(1, 2*(n-held)/(rounds-round+1)))
				how = fmt.Sprintf("after %d lines (%d held)", afterLines, held)
			}
			acks, killed := ledgerIngestKill(t, data, files, delay, afterLines)
			if killed {
				killedRounds++
			}
			stored := 0
			for i, a := range acks {
				checkAck(t, i, a)
				acked[a.sum] = a
				if a.state == "stored" {
					stored++
				}
			}
			t.Logf("kill %s: killed %v, %d lines read (%d stored), %d acknowledged in all", how, killed, len(acks), stored, len(acked))

			res := run(t, data, "verify")
			if res.code != 0 || !strings.Contains(res.stdout, "verify: ok") {
				t.Errorf("verify after the kill: got exit status %d and %q (stderr %q), want 0 and ok", res.code, res.stdout, res.stderr)
			}
			present := evidenceSums(t)
			for sum := range acked {
				if !present[sum] {
					t.Errorf("evidence after the kill: acknowledged sha256 %s is missing", sum)
				}
			}
			var pick []ack
			if len(acks) > 0 {
				for _, i := range rng.Perm(len(acks))[:min(sample, len(acks))] {
					pick = append(pick, acks[i])
				}
				pick = append(pick, acks[len(acks)-1])
			} else {
				for _, a := range acked {
					if len(pick) == sample {
						break
					}
					pick = append(pick, a)
				}
			}
			for _, a := range pick {
				receiptOK(t, a)
			}
		})
	}
	t.Logf("%d of %d rounds killed", killedRounds, rounds)

	t.Run("complete", func(t *testing.T) {
		acks, killed := ledgerIngestKill(t, data, files, -1, 0)
		if killed || len(acks) != n {
			t.Fatalf("complete ingest: got %d lines (killed %v), want %d", len(acks), killed, n)
		}
		for i, a := range acks {
			checkAck(t, i, a)
		}
		var items []jEvidence
		runJSON(t, data, &items, "evidence", "--json")
		if got, want := len(items), n+len(demoItems); got != want {
			t.Errorf("evidence items: got %d, want %d", got, want)
		}
		present := evidenceSums(t)
		for _, f := range files {
			if !present[sumOf[f]] {
				t.Errorf("evidence: got no item for %s, want one", f)
			}
		}
		res := run(t, data, "verify")
		want := fmt.Sprintf("verify: ok, %d original(s) re-hashed, %d evidence item(s), ledger of ", n+len(demoItems), n+len(demoItems))
		if res.code != 0 || !strings.HasPrefix(res.stdout, want) {
			t.Errorf("verify: got exit status %d and %q, want 0 and %q", res.code, res.stdout, want)
		}
		for _, i := range rng.Perm(n)[:sample] {
			receiptOK(t, acks[i])
		}
	})
	t.Logf("took %v", time.Since(start))
}
