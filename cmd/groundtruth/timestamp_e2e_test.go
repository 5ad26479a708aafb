// SPDX-License-Identifier: Apache-2.0

package main

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"groundtruth/internal/timestamp"
)

// TestTimestamps runs a local RFC 3161 authority, has groundtruth stamp the
// checkpoints an ingest produces, checks the stored responses with openssl
// as an independent verifier, and checks that verify notices a stamp that
// no longer fits its checkpoint.
func TestTimestamps(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed")
	}
	tsa, err := timestamp.NewTestAuthority()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(tsa)
	defer srv.Close()

	data, _ := demoData(t)
	dir := filepath.Dir(data)
	root := filepath.Join(dir, "tsa-root.pem")
	if err := os.WriteFile(root, tsa.RootPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, data, "ledger", "tsa", "add", "local", srv.URL, "--roots", root, "--every", "0s")
	if out := mustRun(t, data, "ledger", "tsa", "list"); !strings.HasPrefix(out, "local "+srv.URL) {
		t.Errorf("tsa list: got %q", out)
	}

	clip := filepath.Join(dir, "clip.bin")
	os.WriteFile(clip, []byte("footage to be stamped"), 0o644)
	res := run(t, data, "ingest", clip)
	if res.code != 0 || res.stderr != "" {
		t.Fatalf("ingest: exit %d, stderr %q", res.code, res.stderr)
	}
	stamps := filepath.Join(data, "ledger", "timestamps")
	tsrs, _ := filepath.Glob(filepath.Join(stamps, "*.local.tsr"))
	if len(tsrs) != 1 {
		t.Fatalf("responses stored: got %v, want one", tsrs)
	}
	body := strings.TrimSuffix(tsrs[0], ".local.tsr") + ".body"

	out, err := exec.Command("openssl", "ts", "-verify", "-data", body, "-in", tsrs[0], "-CAfile", root).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Verification: OK") {
		t.Fatalf("openssl ts -verify: %v\n%s", err, out)
	}
	if res := run(t, data, "verify"); res.code != 0 {
		t.Fatalf("verify: exit %d\n%s", res.code, res.stdout)
	}

	// The stamped body must be the archived checkpoint's: an edited body
	// is named, and openssl rejects it too.
	os.Chmod(body, 0o644)
	b, _ := os.ReadFile(body)
	os.WriteFile(body, append(b, '\n'), 0o644)
	res = run(t, data, "verify")
	if res.code != 1 || !strings.Contains(res.stdout, "PROBLEM timestamp") {
		t.Errorf("verify after editing the stamped body: exit %d\n%s", res.code, res.stdout)
	}
	if out, err := exec.Command("openssl", "ts", "-verify", "-data", body, "-in", tsrs[0], "-CAfile", root).CombinedOutput(); err == nil {
		t.Errorf("openssl accepted an edited body:\n%s", out)
	}
	os.WriteFile(body, b, 0o644)

	// An authority that does not answer does not stop an ingest: the
	// change is durable and provable without it.
	srv.Close()
	os.WriteFile(clip, []byte("footage while the authority is down"), 0o644)
	res = run(t, data, "ingest", clip)
	if res.code != 0 || !strings.HasPrefix(res.stdout, "stored ") || !strings.Contains(res.stderr, "timestamp not obtained") {
		t.Errorf("ingest with the authority down: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	if res := run(t, data, "ledger", "timestamp"); res.code != 1 || !strings.Contains(res.stdout, "FAILED") {
		t.Errorf("ledger timestamp with the authority down: exit %d, stdout %q", res.code, res.stdout)
	}
	if res := run(t, data, "ledger", "tsa", "add", "Bad Name", srv.URL); res.code != 2 {
		t.Errorf("tsa add with a bad name: exit %d, want 2", res.code)
	}
}
