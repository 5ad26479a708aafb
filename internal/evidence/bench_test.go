// SPDX-License-Identifier: Apache-2.0

package evidence

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"groundtruth/internal/locker"
	"groundtruth/internal/store"
)

// BenchmarkIngest measures one acknowledged ingest of a distinct 4 KiB file:
// locker write with fsyncs, and one durable SQLite transaction.
func BenchmarkIngest(b *testing.B) {
	dir := b.TempDir()
	st, err := store.Create(b.Context(), filepath.Join(dir, "db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	lk, _ := locker.Open(filepath.Join(dir, "locker"))
	buf := make([]byte, 4096)
	file := filepath.Join(dir, "in.bin")
	c := store.Change{By: "bench", Reason: "bench", At: time.Now()}
	b.SetBytes(int64(len(buf)))
	for i := 0; b.Loop(); i++ {
		binary.LittleEndian.PutUint64(buf, uint64(i))
		if err := os.WriteFile(file, buf, 0o600); err != nil {
			b.Fatal(err)
		}
		if _, err := Ingest(b.Context(), st, lk, Input{Path: file}, c); err != nil {
			b.Fatal(err)
		}
	}
}
