// SPDX-License-Identifier: Apache-2.0

package locker

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func sumOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestPutLayoutAndDedup(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("an original")
	sum, size, created, err := l.Put(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if sum != sumOf(data) || size != int64(len(data)) || !created {
		t.Fatalf("Put = %s %d %v, want %s %d true", sum, size, created, sumOf(data), len(data))
	}
	want := filepath.Join(dir, sum[:2], sum[2:4], sum)
	got, err := os.ReadFile(want)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("file at %s = %q, %v", want, got, err)
	}
	fi, _ := os.Stat(want)
	if fi.Mode().Perm()&0o222 != 0 {
		t.Errorf("stored file mode %v is writable", fi.Mode())
	}

	_, _, created, err = l.Put(bytes.NewReader(data))
	if err != nil || created {
		t.Fatalf("second Put: created = %v, err = %v; want false, nil", created, err)
	}
	var n int
	l.Walk(func(string) error { n++; return nil })
	if n != 1 {
		t.Errorf("Walk found %d originals, want 1", n)
	}
	tmp, _ := os.ReadDir(filepath.Join(dir, tmpDir))
	if len(tmp) != 0 {
		t.Errorf("%d temporary files left", len(tmp))
	}
}

func TestConcurrentPutsOfSameBytes(t *testing.T) {
	l, _ := Open(t.TempDir())
	data := bytes.Repeat([]byte("x"), 1<<16)
	var wg sync.WaitGroup
	var mu sync.Mutex
	createdCount := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, created, err := l.Put(bytes.NewReader(data))
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			if created {
				createdCount++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if createdCount != 1 {
		t.Errorf("%d of 8 concurrent Puts created the file, want exactly 1", createdCount)
	}
}

func TestCheckDetectsTampering(t *testing.T) {
	dir := t.TempDir()
	l, _ := Open(dir)
	sum, _, _, _ := l.Put(strings.NewReader("evidence bytes"))
	if err := l.Check(sum); err != nil {
		t.Fatalf("Check of intact file = %v", err)
	}
	p := l.Path(sum)
	os.Chmod(p, 0o640)
	b, _ := os.ReadFile(p)
	b[3] ^= 1
	os.WriteFile(p, b, 0o440)
	if err := l.Check(sum); !errors.Is(err, ErrIntegrity) {
		t.Errorf("Check of flipped byte = %v, want ErrIntegrity", err)
	}
	// Open's reader reports the mismatch at the end of the stream.
	r, _ := l.Open(sum)
	_, err := io.ReadAll(r)
	r.Close()
	if !errors.Is(err, ErrIntegrity) {
		t.Errorf("reading a changed original: %v, want ErrIntegrity", err)
	}
	// A damaged file is never replaced by a new Put of the right bytes.
	if _, _, _, err := l.Put(strings.NewReader("evidence bytes")); !errors.Is(err, ErrIntegrity) {
		t.Errorf("Put over damaged file = %v, want ErrIntegrity", err)
	}
	os.Remove(p)
	if err := l.Check(sum); !errors.Is(err, ErrNotFound) {
		t.Errorf("Check of deleted file = %v, want ErrNotFound", err)
	}
}

func TestOpenRejectsBadDigest(t *testing.T) {
	l, _ := Open(t.TempDir())
	for _, s := range []string{"", "../../etc/passwd", strings.Repeat("A", 64), strings.Repeat("a", 63)} {
		if _, err := l.Open(s); err == nil {
			t.Errorf("Open(%q) succeeded", s)
		}
	}
}

func TestWalkSkipsTempAndStrays(t *testing.T) {
	dir := t.TempDir()
	l, _ := Open(dir)
	sum, _, _, _ := l.Put(strings.NewReader("kept"))
	os.WriteFile(filepath.Join(dir, tmpDir, "put-123"), []byte("half"), 0o600)
	os.WriteFile(filepath.Join(dir, "README"), []byte("stray"), 0o600)
	var got []string
	if err := l.Walk(func(s string) error { got = append(got, s); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != sum {
		t.Errorf("Walk = %v, want [%s]", got, sum)
	}
	if err := l.CleanTemp(); err != nil {
		t.Fatal(err)
	}
	if e, _ := os.ReadDir(filepath.Join(dir, tmpDir)); len(e) != 0 {
		t.Errorf("CleanTemp left %d files", len(e))
	}
}
