// SPDX-License-Identifier: Apache-2.0

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLedgerConsistencyGivenReceiptOrOtherFile: a receipt carries a
// checkpoint, which ledger consistency takes; any other file is named
// plainly, never as a forgery.
func TestLedgerConsistencyGivenReceiptOrOtherFile(t *testing.T) {
	data, _ := demoData(t)
	work := t.TempDir()
	acks := parseAcks(t, mustRun(t, data, "ingest", writeFiles(t, work, "r", "held by a receipt\n")[0]))
	if len(acks) != 1 {
		t.Fatalf("ingest: got %+v, want one line", acks)
	}
	receipt := filepath.Join(work, "video.tlog-proof")
	mustRun(t, data, "receipt", acks[0].slug, "--out", receipt)
	mustRun(t, data, append([]string{"ingest"}, writeFiles(t, work, "c", "grows the ledger\n")...)...)

	t.Run("receipt", func(t *testing.T) {
		res := run(t, data, "ledger", "consistency", receipt)
		if res.code != 0 {
			t.Fatalf("ledger consistency RECEIPT: got exit status %d (stdout %q, stderr %q), want 0", res.code, res.stdout, res.stderr)
		}
		if !strings.HasPrefix(res.stdout, receipt+" is a receipt: checking the checkpoint it carries") || !strings.Contains(res.stdout, "\nconsistent: the tree of ") {
			t.Errorf("ledger consistency RECEIPT: got %q, want it to say it took the receipt's checkpoint, then \"consistent: ...\"", res.stdout)
		}
	})

	key := filepath.Join(work, "key.pub")
	if err := os.WriteFile(key, []byte(mustRun(t, data, "ledger", "key")), 0o644); err != nil {
		t.Fatal(err)
	}
	video := filepath.Join(work, "video.mp4")
	if err := os.WriteFile(video, []byte("\x00\x00\x00\x18ftypmp42 not a checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(work, "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file, want string
	}{
		{"verifier key", key, "the file is a verifier key, not a checkpoint: pass a signed checkpoint of this ledger"},
		{"media file", video, "not a checkpoint or a receipt (it starts "},
		{"empty file", empty, "the file is empty: pass a signed checkpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, data, "ledger", "consistency", tc.file)
			if res.code != 2 {
				t.Errorf("ledger consistency %s: got exit status %d (stdout %q, stderr %q), want 2", tc.name, res.code, res.stdout, res.stderr)
			}
			checkOneLine(t, res.stderr)
			if !strings.Contains(res.stderr, tc.want) || strings.Contains(res.stderr, "signature") {
				t.Errorf("ledger consistency %s: got stderr %q, want it to say %q and nothing about signatures", tc.name, res.stderr, tc.want)
			}
		})
	}
}
