// SPDX-License-Identifier: Apache-2.0

package casefile

import (
	"path/filepath"
	"testing"
	"time"

	"groundtruth/internal/demo"
	"groundtruth/internal/locker"
	"groundtruth/internal/store"
)

func BenchmarkParseDemo(b *testing.B) {
	data := demo.CaseFile()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(demo.Name, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReloadDemo measures loading the built-in case into a database
// that already holds it: the path every repeated load takes.
func BenchmarkReloadDemo(b *testing.B) {
	dir := b.TempDir()
	st, err := store.Create(b.Context(), filepath.Join(dir, "db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	lk, _ := locker.Open(filepath.Join(dir, "locker"))
	f, err := Parse(demo.Name, demo.CaseFile())
	if err != nil {
		b.Fatal(err)
	}
	c := store.Change{By: "bench", Reason: "bench", At: time.Now()}
	if _, err := Load(b.Context(), st, lk, f, c); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Load(b.Context(), st, lk, f, c); err != nil {
			b.Fatal(err)
		}
	}
}
