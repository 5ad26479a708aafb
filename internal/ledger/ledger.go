// SPDX-License-Identifier: Apache-2.0

package ledger

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"
	"github.com/transparency-dev/tessera/storage/posix"
	"golang.org/x/mod/sumdb/note"
)

// Ledger is an opened ledger directory.
type Ledger struct {
	dir  string
	keys *keys
	// witnessFile keeps the largest checkpoint seen, outside the data
	// directory (witness_file.go); empty when not kept.
	witnessFile string
}

// Open opens the ledger in dir. It only reads; writing starts with Sync.
func Open(dir string) (*Ledger, error) {
	k, err := readKeys(dir)
	if err != nil {
		return nil, err
	}
	return &Ledger{dir: dir, keys: k}, nil
}

// Origin returns the log's origin line, the name of its key.
func (l *Ledger) Origin() string { return l.keys.signer.Name() }

// VerifierKey returns the public key that checks the log's checkpoints, in
// the signed-note verifier format.
func (l *Ledger) VerifierKey() string { return l.keys.vkey }

// Verifier returns the log's checkpoint verifier.
func (l *Ledger) Verifier() note.Verifier { return l.keys.verifier }

func (l *Ledger) logPath() string { return filepath.Join(l.dir, logDir) }

// Checkpoint is a parsed, signature-checked checkpoint.
type Checkpoint struct {
	Size uint64
	Root []byte
	Raw  []byte // the signed note
}

// ParseCheckpoint checks a checkpoint's signature with v and parses it.
func ParseCheckpoint(raw []byte, v note.Verifier) (*Checkpoint, error) {
	n, err := note.Open(raw, note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("checkpoint signature does not verify with key %s: %w", v.Name(), err)
	}
	var cp log.Checkpoint
	if _, err := cp.Unmarshal([]byte(n.Text)); err != nil {
		return nil, fmt.Errorf("checkpoint body: %w", err)
	}
	if cp.Origin != v.Name() {
		return nil, fmt.Errorf("checkpoint is for log %q, not %q", cp.Origin, v.Name())
	}
	return &Checkpoint{Size: cp.Size, Root: cp.Hash, Raw: raw}, nil
}

// Latest returns the checkpoint the log currently publishes, or nil for a
// log that has published none.
func (l *Ledger) Latest() (*Checkpoint, error) {
	raw, err := os.ReadFile(filepath.Join(l.logPath(), layout.CheckpointPath))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: read checkpoint: %w", err)
	}
	cp, err := ParseCheckpoint(raw, l.keys.verifier)
	if err != nil {
		return nil, fmt.Errorf("ledger: published checkpoint: %w", err)
	}
	return cp, nil
}

// Archived is a checkpoint file of the archive.
type Archived struct {
	Name string // file name: the tree size, or size.fork-N for a second checkpoint of one size
	Size uint64
	Raw  []byte
}

// Archive lists the archived checkpoints, smallest tree first. It does
// not check them.
func (l *Ledger) Archive() ([]Archived, error) {
	entries, err := os.ReadDir(filepath.Join(l.dir, checkpointsDir))
	if err != nil {
		return nil, fmt.Errorf("ledger: read archive: %w", err)
	}
	var out []Archived
	for _, e := range entries {
		name := e.Name()
		num, _, _ := strings.Cut(name, ".")
		size, err := strconv.ParseUint(num, 10, 64)
		if err != nil || strings.HasSuffix(name, ".tmp") {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(l.dir, checkpointsDir, name))
		if err != nil {
			return nil, fmt.Errorf("ledger: read archive: %w", err)
		}
		out = append(out, Archived{Name: name, Size: size, Raw: raw})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Size < out[j].Size || out[i].Size == out[j].Size && out[i].Name < out[j].Name
	})
	return out, nil
}

// ArchivedAtLeast returns the smallest archived, valid checkpoint whose tree
// has at least size leaves.
func (l *Ledger) ArchivedAtLeast(size uint64) (*Checkpoint, error) {
	arch, err := l.Archive()
	if err != nil {
		return nil, err
	}
	for _, a := range arch {
		if a.Size < size {
			continue
		}
		if cp, err := ParseCheckpoint(a.Raw, l.keys.verifier); err == nil {
			return cp, nil
		}
	}
	return nil, fmt.Errorf("ledger: no archived checkpoint covers %d entries yet", size)
}

// archivingSigner signs checkpoints for Tessera and archives each signed
// checkpoint before Tessera may publish it: Tessera overwrites its one
// checkpoint file, and a checkpoint that was ever published must stay
// available to anyone who asks for a consistency proof from it.
type archivingSigner struct {
	note.Signer
	dir string
}

func (s *archivingSigner) Sign(msg []byte) ([]byte, error) {
	sig, err := s.Signer.Sign(msg)
	if err != nil {
		return nil, err
	}
	lines := strings.SplitN(string(msg), "\n", 3)
	if len(lines) < 3 {
		return nil, fmt.Errorf("ledger: unexpected checkpoint text %q", msg)
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("ledger: unexpected checkpoint size %q", lines[1])
	}
	var kh [4]byte
	binary.BigEndian.PutUint32(kh[:], s.KeyHash())
	signed := string(msg) + "\n— " + s.Name() + " " + base64.StdEncoding.EncodeToString(append(kh[:], sig...)) + "\n"
	if err := archive(s.dir, size, []byte(signed)); err != nil {
		return nil, err
	}
	return sig, nil
}

// archive writes checkpoints/<size> once. A second, different checkpoint
// of the same size (which a log must never sign) is kept beside it as
// <size>.fork-N for verify to report, never over it.
func archive(dir string, size uint64, signed []byte) error {
	name := strconv.FormatUint(size, 10)
	for n := 1; ; n++ {
		p := filepath.Join(dir, name)
		old, err := os.ReadFile(p)
		if err == nil {
			if string(old) == string(signed) {
				return nil
			}
			name = fmt.Sprintf("%d.fork-%d", size, n)
			continue
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("ledger: archive checkpoint %d: %w", size, err)
		}
		// A temporary file of our own (writable, so that a leftover from a
		// crash never blocks the next attempt), linked into place, then
		// made read-only.
		tmp, err := os.CreateTemp(dir, name+".*.tmp")
		if err != nil {
			return fmt.Errorf("ledger: archive checkpoint %d: %w", size, err)
		}
		_, err = tmp.Write(signed)
		if err == nil {
			err = tmp.Sync()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(tmp.Name(), 0o444)
		}
		if err != nil {
			os.Remove(tmp.Name())
			return fmt.Errorf("ledger: archive checkpoint %d: %w", size, err)
		}
		err = os.Link(tmp.Name(), p)
		os.Remove(tmp.Name())
		if errors.Is(err, fs.ErrExist) {
			n-- // raced with another writer: compare again
			continue
		}
		if err != nil {
			return fmt.Errorf("ledger: archive checkpoint %d: %w", size, err)
		}
		return syncDir(dir)
	}
}

// writer appends to the log through Tessera.
type writer struct {
	add      tessera.AddFn
	shutdown func(context.Context) error
	reader   tessera.LogReader
	awaiter  *tessera.PublicationAwaiter
	cancel   context.CancelFunc
}

// checkpointInterval is how often Tessera may publish a new checkpoint. It
// bounds how long an acknowledgement waits; each published checkpoint is
// also a file in the archive.
const checkpointInterval = 100 * time.Millisecond

func (l *Ledger) openWriter(ctx context.Context) (*writer, error) {
	driver, err := posix.New(ctx, posix.Config{Path: l.logPath()})
	if err != nil {
		return nil, fmt.Errorf("ledger: open log: %w", err)
	}
	opts := tessera.NewAppendOptions().
		WithCheckpointSigner(&archivingSigner{Signer: l.keys.signer, dir: filepath.Join(l.dir, checkpointsDir)}).
		WithBatching(256, 10*time.Millisecond).
		WithCheckpointInterval(checkpointInterval)
	// The appender's goroutines live until Close, not until ctx ends: a
	// cancelled request must not stop a batch half way.
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a, shutdown, r, err := tessera.NewAppender(bg, driver, opts)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("ledger: open appender: %w", err)
	}
	return &writer{
		add: a.Add, shutdown: shutdown, reader: r, cancel: cancel,
		awaiter: tessera.NewPublicationAwaiter(bg, r.ReadCheckpoint, 20*time.Millisecond),
	}, nil
}

func (w *writer) close(ctx context.Context) error {
	err := w.shutdown(ctx)
	w.cancel()
	return err
}

// fetchTile and fetchBundle read the log's resources from disk, falling
// back from a partial resource to the full one, which replaces it once the
// tile or bundle fills.
func (l *Ledger) fetchTile(_ context.Context, level, index uint64, p uint8) ([]byte, error) {
	return l.partialOrFull(p, func(p uint8) string { return layout.TilePath(level, index, p) })
}

func (l *Ledger) fetchBundle(_ context.Context, index uint64, p uint8) ([]byte, error) {
	return l.partialOrFull(p, func(p uint8) string { return layout.EntriesPath(index, p) })
}

func (l *Ledger) partialOrFull(p uint8, path func(uint8) string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(l.logPath(), path(p)))
	if p != 0 && errors.Is(err, fs.ErrNotExist) {
		b, err = os.ReadFile(filepath.Join(l.logPath(), path(0)))
	}
	return b, err
}

// readCheckpointFile is the fetcher of the published checkpoint.
func (l *Ledger) readCheckpointFile(_ context.Context) ([]byte, error) {
	return os.ReadFile(filepath.Join(l.logPath(), layout.CheckpointPath))
}

// Entries returns the log's entries with indices in [from, to), read from
// the entry bundles of a tree of size treeSize.
func (l *Ledger) Entries(ctx context.Context, from, to, treeSize uint64) ([][]byte, error) {
	var out [][]byte
	for from < to {
		bundle := from / layout.EntryBundleWidth
		b, err := client.GetEntryBundle(ctx, l.fetchBundle, bundle, treeSize)
		if err != nil {
			return nil, fmt.Errorf("ledger: entry bundle %d: %w", bundle, err)
		}
		off := from - bundle*layout.EntryBundleWidth
		if off >= uint64(len(b.Entries)) {
			return nil, fmt.Errorf("ledger: entry bundle %d holds %d entries, fewer than the tree needs", bundle, len(b.Entries))
		}
		for ; off < uint64(len(b.Entries)) && from < to; off++ {
			out = append(out, b.Entries[off])
			from++
		}
	}
	return out, nil
}
