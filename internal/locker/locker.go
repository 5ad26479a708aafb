// SPDX-License-Identifier: Apache-2.0

// Package locker stores originals by content: each file lives at
// aa/bb/<sha256 hex> under the locker's root, where aa and bb are the first
// two bytes of the digest in hex.
//
// # Invariants
//
//   - A stored file's name is the SHA-256 of its bytes. Files are written
//     once and never modified: a write goes to a temporary file, which is
//     synced, linked into place only if no file of that name exists, and the
//     directory is synced, so a crash leaves either no file or a whole one.
//   - Storing the same bytes again adds no copy.
//   - Every read that serves an original as evidence checks its hash.
//
// The locker keeps no index of its own: the store records which digests
// were acknowledged. A file with no record (a crash between the two) is an
// orphan that Walk reports and that a later ingest of the same bytes adopts.
package locker

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotFound is returned when no original with the digest is stored.
var ErrNotFound = errors.New("locker: not found")

// ErrIntegrity is returned when a stored file's bytes no longer match its
// name.
var ErrIntegrity = errors.New("locker: stored bytes do not match their digest")

// Locker is a content-addressed store of originals under one directory.
type Locker struct {
	root string
}

const tmpDir = "tmp"

// Open returns the locker rooted at dir, creating the directory if needed.
func Open(dir string) (*Locker, error) {
	if err := os.MkdirAll(filepath.Join(dir, tmpDir), 0o750); err != nil {
		return nil, fmt.Errorf("locker: open %s: %w", dir, err)
	}
	return &Locker{root: dir}, nil
}

// Path returns where the original with digest sum is (or would be) stored.
func (l *Locker) Path(sum string) string {
	return filepath.Join(l.root, sum[0:2], sum[2:4], sum)
}

// Put stores the bytes read from r and returns their SHA-256 (lower-case
// hex) and size. When the same bytes are already stored, nothing is written
// and created is false.
func (l *Locker) Put(r io.Reader) (sum string, size int64, created bool, err error) {
	tmp, err := os.CreateTemp(filepath.Join(l.root, tmpDir), "put-*")
	if err != nil {
		return "", 0, false, fmt.Errorf("locker: create temporary file: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	h := sha256.New()
	size, err = io.Copy(io.MultiWriter(tmp, h), r)
	if err != nil {
		return "", 0, false, fmt.Errorf("locker: copy: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return "", 0, false, fmt.Errorf("locker: sync: %w", err)
	}
	if err := tmp.Chmod(0o440); err != nil {
		return "", 0, false, fmt.Errorf("locker: chmod: %w", err)
	}
	sum = hex.EncodeToString(h.Sum(nil))
	dst := l.Path(sum)
	if err := l.mkdirs(filepath.Dir(dst)); err != nil {
		return "", 0, false, err
	}
	// Link, not rename: link fails if the name exists, so a concurrent or
	// earlier write of the same bytes is never replaced.
	switch err := os.Link(tmp.Name(), dst); {
	case err == nil:
		created = true
	case errors.Is(err, fs.ErrExist):
		// The name exists. It is ours only if its bytes are the same; a
		// damaged file is reported, never overwritten.
		if err := l.Check(sum); err != nil {
			return "", 0, false, err
		}
	default:
		return "", 0, false, fmt.Errorf("locker: link %s: %w", sum, err)
	}
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return "", 0, false, err
	}
	return sum, size, created, nil
}

// mkdirs creates the fan-out directories and syncs each parent, so that a
// new directory entry survives a crash.
func (l *Locker) mkdirs(dir string) error {
	rel, err := filepath.Rel(l.root, dir)
	if err != nil {
		return fmt.Errorf("locker: %w", err)
	}
	cur := l.root
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		next := filepath.Join(cur, part)
		if err := os.Mkdir(next, 0o750); err == nil {
			if err := syncDir(cur); err != nil {
				return err
			}
		} else if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("locker: mkdir %s: %w", next, err)
		}
		cur = next
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("locker: open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("locker: sync directory %s: %w", dir, err)
	}
	return nil
}

// Open returns a reader of the original with digest sum that checks the
// bytes as they are read: the final Read returns ErrIntegrity instead of
// io.EOF when they do not match.
func (l *Locker) Open(sum string) (io.ReadCloser, error) {
	if !validSum(sum) {
		return nil, fmt.Errorf("locker: %q is not a SHA-256 digest", sum)
	}
	f, err := os.Open(l.Path(sum))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("locker: open %s: %w", sum, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("locker: open %s: %w", sum, err)
	}
	return &checkedReader{f: f, h: sha256.New(), want: sum}, nil
}

// Check re-hashes the stored original and returns ErrNotFound or
// ErrIntegrity (wrapped) when it is missing or changed.
func (l *Locker) Check(sum string) error {
	r, err := l.Open(sum)
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(io.Discard, r)
	return err
}

type checkedReader struct {
	f    *os.File
	h    hash.Hash
	want string
}

func (c *checkedReader) Read(p []byte) (int, error) {
	n, err := c.f.Read(p)
	c.h.Write(p[:n])
	if err == io.EOF {
		if got := hex.EncodeToString(c.h.Sum(nil)); got != c.want {
			return n, fmt.Errorf("%w: %s hashes to %s", ErrIntegrity, c.want, got)
		}
	}
	return n, err
}

func (c *checkedReader) Close() error { return c.f.Close() }

func validSum(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// Walk calls fn with the digest of every stored original, in lexical order.
// Temporary files left by an interrupted write are skipped.
func (l *Locker) Walk(fn func(sum string) error) error {
	return filepath.WalkDir(l.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == filepath.Join(l.root, tmpDir) {
				return filepath.SkipDir
			}
			return nil
		}
		if name := d.Name(); validSum(name) && l.Path(name) == path {
			return fn(name)
		}
		return nil
	})
}

// CleanTemp removes temporary files left by interrupted writes. It must not
// run while another process writes to the locker.
func (l *Locker) CleanTemp() error {
	entries, err := os.ReadDir(filepath.Join(l.root, tmpDir))
	if err != nil {
		return fmt.Errorf("locker: clean: %w", err)
	}
	for _, e := range entries {
		if err := os.Remove(filepath.Join(l.root, tmpDir, e.Name())); err != nil {
			return fmt.Errorf("locker: clean: %w", err)
		}
	}
	return nil
}
