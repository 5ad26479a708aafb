// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// restoreOld puts the database and the ledger of backup back into data,
// as an operator restoring an old backup (or an adversary rolling the
// evidence back) would; the locker keeps the newer originals.
func restoreOld(t *testing.T, backup, data string) {
	t.Helper()
	for _, name := range []string{"groundtruth.db", "ledger"} {
		if err := os.RemoveAll(filepath.Join(data, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"groundtruth.db-wal", "groundtruth.db-shm"} {
		os.Remove(filepath.Join(data, name))
	}
	tmp := filepath.Join(t.TempDir(), "copy")
	copyDir(t, backup, tmp)
	for _, name := range []string{"groundtruth.db", "ledger"} {
		if err := os.Rename(filepath.Join(tmp, name), filepath.Join(data, name)); err != nil {
			t.Fatal(err)
		}
	}
}

// problemLines returns the lines of out that start with "PROBLEM ".
func problemLines(out string) []string {
	var ps []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "PROBLEM ") {
			ps = append(ps, l)
		}
	}
	return ps
}

// TestVerifyDetectsRollbackWithWitnessFile restores an older copy of the
// database and the ledger together: a data directory consistent with
// itself, which only the witness file kept outside it shows to be behind.
func TestVerifyDetectsRollbackWithWitnessFile(t *testing.T) {
	data, _ := demoData(t)
	work := t.TempDir()
	backup := filepath.Join(work, "backup")
	copyDir(t, data, backup)
	before := publishedSize(t, data)
	files := writeFiles(t, work, "later", "later 1\n", "later 2\n", "later 3\n")
	mustRun(t, data, append([]string{"ingest"}, files...)...)
	after := publishedSize(t, data)
	mustRun(t, data, "verify")

	restoreOld(t, backup, data)
	res := run(t, data, "verify")
	if res.code != 1 {
		t.Fatalf("verify after restoring an older copy: got exit status %d (stdout %q, stderr %q), want 1", res.code, res.stdout, res.stderr)
	}
	want := regexp.MustCompile(`^PROBLEM ledger rolled back: witness file \S+ saw a tree of ` + itoa(after) + ` entries, the ledger here holds ` + itoa(before) + `\b`)
	var found bool
	for _, l := range problemLines(res.stdout) {
		found = found || want.MatchString(l)
	}
	if !found {
		t.Errorf("verify after restoring an older copy: got %q, want a line matching %q", res.stdout, want)
	}
	if strings.Contains(res.stdout, "interrupted ingest") {
		t.Errorf("verify after restoring an older copy: got %q, want the newer originals not passed off as left by an interrupted ingest", res.stdout)
	}
	if !strings.Contains(res.stdout, "PROBLEM 3 file(s) in the locker are not acknowledged by any record, and the ledger once held "+itoa(after)+" entries") {
		t.Errorf("verify after restoring an older copy: got %q, want the 3 newer originals named as a PROBLEM", res.stdout)
	}

	// Growing the rolled-back ledger would sign a second tree of a size
	// already published: refused.
	more := writeFiles(t, work, "fork", "fork 1\n")
	res = run(t, data, append([]string{"ingest"}, more...)...)
	if res.code == 0 || !strings.Contains(res.stderr, "rolled back") {
		t.Errorf("ingest into the rolled-back copy: got exit status %d and stderr %q, want a failure saying the ledger was rolled back", res.code, res.stderr)
	}
	if out := mustRun(t, data, "evidence", "--json"); strings.Contains(out, sha256Hex([]byte("fork 1\n"))) {
		t.Errorf("evidence after the refused ingest: got %q, want no record of the refused file", out)
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// witnessServer runs "groundtruth witness serve" for the ledger of data
// and returns its URL and verifier key; it is stopped when the test ends.
func witnessServer(t *testing.T, data string) (url, vkey string, stop func()) {
	t.Helper()
	logKey := strings.TrimSpace(mustRun(t, data, "ledger", "key"))
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, binPath, "witness", "serve", "--dir", filepath.Join(t.TempDir(), "witness"),
		"--name", "witness.test", "--log", logKey, "--addr", "127.0.0.1:0")
	cmd.Env = testEnv()
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once bool
	stop = func() {
		if !once {
			once = true
			cancel()
			cmd.Wait()
		}
	}
	t.Cleanup(stop)
	// The server prints its key, then its address once it listens.
	sc := bufio.NewScanner(pipe)
	keyRE := regexp.MustCompile(`^witness witness\.test, key (\S+)$`)
	addrRE := regexp.MustCompile(`^listening on (http://\S+)/$`)
	for sc.Scan() {
		if m := keyRE.FindStringSubmatch(sc.Text()); m != nil {
			vkey = m[1]
		}
		if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
			url = m[1]
			break
		}
	}
	if url == "" || vkey == "" {
		t.Fatalf("witness serve: got no key and address on stdout (key %q, url %q, %v)", vkey, url, sc.Err())
	}
	go func() {
		for sc.Scan() {
		}
	}()
	return url, vkey, stop
}

// TestVerifyDetectsRollbackWithWitness restores an older copy of the whole
// data directory, its cosignatures and its witness file included: the
// witness, run by someone else, still holds the larger tree.
func TestVerifyDetectsRollbackWithWitness(t *testing.T) {
	data, _ := demoData(t)
	url, vkey, stop := witnessServer(t, data)
	if out := mustRun(t, data, "ledger", "witness", "add", "partner", url, vkey); strings.Contains(out, "WARNING") {
		t.Fatalf("ledger witness add: got %q, want no warning", out)
	}
	work := t.TempDir()
	files := writeFiles(t, work, "w", "witnessed 1\n", "witnessed 2\n")
	mustRun(t, data, "ingest", files[0])
	size := publishedSize(t, data)
	if _, err := os.Stat(filepath.Join(data, "ledger", "cosigned", itoa(size)+".partner")); err != nil {
		t.Fatalf("after ingest: cosignature of checkpoint %d: %v, want it stored", size, err)
	}
	if out := mustRun(t, data, "verify"); strings.Contains(out, "WARNING") {
		t.Errorf("verify: got %q, want no warning", out)
	}

	backup := filepath.Join(work, "backup")
	copyDir(t, data, backup)
	witnessFile, err := os.ReadFile(data + ".witness")
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, data, "ingest", files[1])
	after := publishedSize(t, data)

	// Everything restored, the witness file too.
	if err := os.RemoveAll(data); err != nil {
		t.Fatal(err)
	}
	copyDir(t, backup, data)
	if err := os.WriteFile(data+".witness", witnessFile, 0o600); err != nil {
		t.Fatal(err)
	}
	res := run(t, data, "verify")
	if res.code != 1 {
		t.Fatalf("verify after restoring an older copy: got exit status %d (stdout %q, stderr %q), want 1", res.code, res.stdout, res.stderr)
	}
	want := "PROBLEM ledger rolled back: witness partner saw a tree of " + itoa(after) + " entries, the ledger here holds " + itoa(size)
	if !strings.Contains(res.stdout, want) {
		t.Errorf("verify after restoring an older copy: got %q, want %q", res.stdout, want)
	}

	// A witness that is down is a warning that says how stale it is, not a
	// failure, and does not stop writes.
	stop()
	healthy := filepath.Join(t.TempDir(), "data")
	copyDir(t, backup, healthy)
	mustRun(t, healthy, append([]string{"ingest"}, writeFiles(t, work, "down", "while the witness is down\n")...)...)
	res = run(t, healthy, "verify")
	if res.code != 0 {
		t.Fatalf("verify with the witness down: got exit status %d (stdout %q, stderr %q), want 0", res.code, res.stdout, res.stderr)
	}
	stale := regexp.MustCompile(`(?m)^WARNING witness partner: .*; its newest cosignature covers ` + itoa(size) + ` of \d+ entries, from \S+ \(\S+ ago\)$`)
	if !stale.MatchString(res.stdout) {
		t.Errorf("verify with the witness down: got %q, want a line matching %q", res.stdout, stale)
	}
}
