// SPDX-License-Identifier: Apache-2.0

package locker

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// BenchmarkPut1MiB measures storing a new 1 MiB original (hash, write,
// fsync, link, fsync directory).
func BenchmarkPut1MiB(b *testing.B) {
	l, _ := Open(b.TempDir())
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	for i := 0; b.Loop(); i++ {
		binary.LittleEndian.PutUint64(buf, uint64(i))
		if _, _, _, err := l.Put(bytes.NewReader(buf)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheck1MiB measures re-hashing a stored 1 MiB original, the unit
// of work of verify.
func BenchmarkCheck1MiB(b *testing.B) {
	l, _ := Open(b.TempDir())
	sum, _, _, _ := l.Put(bytes.NewReader(make([]byte, 1<<20)))
	b.SetBytes(1 << 20)
	for b.Loop() {
		if err := l.Check(sum); err != nil {
			b.Fatal(err)
		}
	}
}
