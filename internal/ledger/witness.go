// SPDX-License-Identifier: Apache-2.0

package ledger

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

// Witnesses run by other organisations cosign the ledger's checkpoints
// (C2SP tlog-witness and tlog-cosignature). A witness keeps the largest
// tree it has seen of each log and cosigns a checkpoint only with a proof
// that it extends that tree, so a witness that once cosigned a larger tree
// refuses a rolled-back one: the rollback shows even when the whole data
// directory, cosignatures included, was restored. Inside the ledger
// directory:
//
//	witnesses              one witness a line: NAME URL VKEY
//	cosigned/SIZE.NAME     checkpoint SIZE with the cosignature NAME returned,
//	                       a signed note any tlog client checks with both keys
//
// The wire protocol (tlog-witness): POST URL/add-checkpoint with the body
//
//	old OLD_SIZE
//	consistency proof from OLD_SIZE, one base64 hash a line
//	(blank line)
//	the signed checkpoint
//
// answered by 200 and the cosignature lines, 409 with the witness's size
// (text/x.tlog.size) when OLD_SIZE is not what it holds, 422 when the
// proof does not verify, 403 for a bad log signature, 404 for an unknown
// log.
const (
	witnessConfig = "witnesses"
	cosignedDir   = "cosigned"
)

// Witness is a configured witness.
type Witness struct {
	Name     string
	URL      string // prefix of add-checkpoint
	VKey     string // its cosignature verifier key, as given
	Verifier note.Verifier
}

// AddWitness configures a witness; vkey is its verifier key (Ed25519 or
// an Ed25519 cosignature/v1 key).
func (l *Ledger) AddWitness(name, rawURL, vkey string) error {
	if !tsaNameRE.MatchString(name) {
		return fmt.Errorf("witness name %q: use 1 to 31 lower-case letters, digits and hyphens", name)
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(rawURL, " \n") {
		return fmt.Errorf("witness URL %q: give an http or https URL, the prefix of its add-checkpoint endpoint", rawURL)
	}
	if _, err := fnote.NewVerifierForCosignatureV1(vkey); err != nil {
		return fmt.Errorf("witness key %q is not a verifier key (name+hash+base64 key, as the witness's operator publishes it): %v", vkey, err)
	}
	ws, err := l.Witnesses()
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, w := range ws {
		if w.Name != name {
			fmt.Fprintf(&b, "%s %s %s\n", w.Name, w.URL, w.VKey)
		}
	}
	fmt.Fprintf(&b, "%s %s %s\n", name, strings.TrimSuffix(rawURL, "/"), vkey)
	return writeFileSync(filepath.Join(l.dir, witnessConfig), []byte(b.String()), 0o600)
}

// Witnesses returns the configured witnesses.
func (l *Ledger) Witnesses() ([]Witness, error) {
	b, err := os.ReadFile(filepath.Join(l.dir, witnessConfig))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: read %s: %w", witnessConfig, err)
	}
	return parseWitnesses(b)
}

func parseWitnesses(b []byte) ([]Witness, error) {
	var out []Witness
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("ledger: %s:%d: want NAME URL VKEY", witnessConfig, n)
		}
		v, err := fnote.NewVerifierForCosignatureV1(f[2])
		if err != nil {
			return nil, fmt.Errorf("ledger: %s:%d: witness key: %v", witnessConfig, n, err)
		}
		if !tsaNameRE.MatchString(f[0]) {
			return nil, fmt.Errorf("ledger: %s:%d: bad witness name %q", witnessConfig, n, f[0])
		}
		out = append(out, Witness{Name: f[0], URL: f[1], VKey: f[2], Verifier: v})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ledger: read %s: %w", witnessConfig, err)
	}
	return out, nil
}

// WitnessError is a witness that could not be asked, or answered in a
// way that proves nothing about the ledger (down, misconfigured).
type WitnessError struct {
	Name string
	Err  error
}

func (e *WitnessError) Error() string { return "witness " + e.Name + ": " + e.Err.Error() }
func (e *WitnessError) Unwrap() error { return e.Err }

// Cosign sends the checkpoint to every configured witness and stores each
// cosignature returned. It returns one error per witness that did not
// cosign: a *RollbackError when the witness has seen a larger tree or one
// this ledger does not extend, a *WitnessError otherwise. A witness that is
// down never stops a write: the next Cosign sends it the then-latest
// checkpoint with a proof from the last tree it cosigned.
func (l *Ledger) Cosign(ctx context.Context, hc *http.Client, cp *Checkpoint) []error {
	ws, err := l.Witnesses()
	if err != nil {
		return []error{err}
	}
	if cp == nil {
		return nil
	}
	var errs []error
	for _, w := range ws {
		if err := l.cosign(ctx, hc, w, cp, false); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// maxWitnessAnswer bounds what is read of a witness's answer: a few
// signature lines, or a size.
const maxWitnessAnswer = 64 << 10

// cosign asks w to cosign cp. Unless ask is set, a checkpoint w has
// cosigned already is not sent again; verify sets it, since only the
// witness's answer shows a rollback that restored the cosignatures too.
func (l *Ledger) cosign(ctx context.Context, hc *http.Client, w Witness, cp *Checkpoint, ask bool) error {
	if _, err := os.Stat(l.cosignedPath(cp.Size, w.Name)); err == nil && !ask {
		return nil
	}
	old, _, err := l.lastCosigned(w)
	if err != nil {
		return &WitnessError{w.Name, err}
	}
	// At most two rounds: the size we believe the witness holds, then the
	// size it says it holds.
	for round := 0; ; round++ {
		if old > cp.Size {
			return &RollbackError{Witness: "witness " + w.Name, Seen: old, Have: cp.Size}
		}
		proof, err := l.consistency(ctx, old, cp.Size)
		if err != nil {
			return &WitnessError{w.Name, err}
		}
		code, body, err := postCheckpoint(ctx, hc, w.URL, old, proof, cp.Raw)
		if err != nil {
			return &WitnessError{w.Name, err}
		}
		switch code {
		case http.StatusOK:
			signed, err := cosignedNote(cp.Raw, body, w.Verifier)
			if err != nil {
				return &WitnessError{w.Name, err}
			}
			if err := l.storeCosigned(cp.Size, w.Name, signed); err != nil {
				return &WitnessError{w.Name, err}
			}
			return nil
		case http.StatusConflict:
			size, err := parseSize(body)
			if err != nil {
				return &WitnessError{w.Name, fmt.Errorf("answered 409 without its tree size: %v", err)}
			}
			if size > cp.Size {
				return &RollbackError{Witness: "witness " + w.Name, Seen: size, Have: cp.Size}
			}
			if size == old || round > 0 {
				// It holds a tree of that size, and not ours.
				return &RollbackError{Witness: "witness " + w.Name, Seen: size, Have: cp.Size, Inconsistent: true}
			}
			old = size
		case http.StatusUnprocessableEntity:
			return &RollbackError{Witness: "witness " + w.Name, Seen: old, Have: cp.Size, Inconsistent: true}
		case http.StatusForbidden, http.StatusNotFound:
			return &WitnessError{w.Name, fmt.Errorf("refused the checkpoint (HTTP %d): ask its operator to accept log %s", code, l.keys.vkey)}
		default:
			return &WitnessError{w.Name, fmt.Errorf("HTTP %d: %s", code, firstLine(body))}
		}
	}
}

// postCheckpoint sends one add-checkpoint request and returns the status
// and up to maxWitnessAnswer bytes of the answer.
func postCheckpoint(ctx context.Context, hc *http.Client, prefix string, old uint64, proof [][]byte, cp []byte) (int, []byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "old %d\n", old)
	for _, h := range proof {
		b.WriteString(base64.StdEncoding.EncodeToString(h) + "\n")
	}
	b.WriteString("\n")
	b.Write(cp)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(prefix, "/")+"/add-checkpoint", &b)
	if err != nil {
		return 0, nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxWitnessAnswer))
	if err != nil {
		return 0, nil, fmt.Errorf("read answer: %w", err)
	}
	return resp.StatusCode, body, nil
}

// cosignedNote appends a witness's signature lines to the checkpoint and
// checks that they carry a valid cosignature of v.
func cosignedNote(cp, sigLines []byte, v note.Verifier) ([]byte, error) {
	if len(sigLines) == 0 || !bytes.HasPrefix(sigLines, []byte("— ")) || !bytes.HasSuffix(sigLines, []byte("\n")) {
		return nil, fmt.Errorf("answered 200 without signature lines: %q", firstLine(sigLines))
	}
	signed := append(bytes.Clone(cp), sigLines...)
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("its answer holds no valid cosignature of key %s: %v", v.Name(), err)
	}
	if _, err := fnote.CoSigV1Timestamp(n.Sigs[0]); err != nil {
		return nil, fmt.Errorf("its cosignature carries no time: %v", err)
	}
	return signed, nil
}

func parseSize(b []byte) (uint64, error) {
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" || strings.ContainsAny(s, "\n+-") {
		return 0, fmt.Errorf("%q is not a tree size", firstLine(b))
	}
	return strconv.ParseUint(s, 10, 64)
}

func firstLine(b []byte) string {
	line, _, _ := strings.Cut(string(b), "\n")
	if len(line) > 200 {
		line = line[:200]
	}
	return line
}

func (l *Ledger) cosignedPath(size uint64, name string) string {
	return filepath.Join(l.dir, cosignedDir, strconv.FormatUint(size, 10)+"."+name)
}

func (l *Ledger) storeCosigned(size uint64, name string, signed []byte) error {
	if err := os.MkdirAll(filepath.Join(l.dir, cosignedDir), 0o750); err != nil {
		return err
	}
	return writeFileSync(l.cosignedPath(size, name), signed, 0o444)
}

// cosignedFile is a stored cosignature.
type cosignedFile struct {
	Name string // file name
	Size uint64
	Raw  []byte
}

// cosignedBy lists the stored cosigned checkpoints of witness name,
// smallest tree first.
func (l *Ledger) cosignedBy(name string) ([]cosignedFile, error) {
	matches, err := filepath.Glob(filepath.Join(l.dir, cosignedDir, "*."+name))
	if err != nil {
		return nil, err
	}
	var out []cosignedFile
	for _, m := range matches {
		num, _, _ := strings.Cut(filepath.Base(m), ".")
		size, err := strconv.ParseUint(num, 10, 64)
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(m)
		if err != nil {
			return nil, fmt.Errorf("ledger: read cosignature: %w", err)
		}
		out = append(out, cosignedFile{Name: filepath.Base(m), Size: size, Raw: raw})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Size < out[j].Size })
	return out, nil
}

// lastCosigned returns the largest tree size w cosigned, as far as the
// stored cosignatures tell, and when.
func (l *Ledger) lastCosigned(w Witness) (uint64, time.Time, error) {
	files, err := l.cosignedBy(w.Name)
	if err != nil || len(files) == 0 {
		return 0, time.Time{}, err
	}
	last := files[len(files)-1]
	n, err := note.Open(last.Raw, note.VerifierList(w.Verifier))
	if err != nil {
		return last.Size, time.Time{}, nil
	}
	t, _ := fnote.CoSigV1Timestamp(n.Sigs[0])
	return last.Size, t, nil
}

// CheckWitnesses checks the stored cosignatures and asks every witness to
// cosign the published checkpoint. It returns problems (a forged or
// misplaced cosignature, a witness that has seen a larger tree or one this
// ledger does not extend) and warnings (a witness that could not be
// asked, with how stale its last cosignature is). rolledBack is the
// largest tree size a witness proves the ledger once had, or 0.
func (l *Ledger) CheckWitnesses(ctx context.Context, hc *http.Client, now time.Time) (problems, warnings []string, rolledBack uint64, err error) {
	ws, err := l.Witnesses()
	if err != nil {
		return nil, nil, 0, err
	}
	if len(ws) == 0 {
		return nil, nil, 0, nil
	}
	cur, err := l.Latest()
	if err != nil {
		return nil, nil, 0, err
	}
	arch := map[uint64][]byte{}
	if list, err := l.Archive(); err == nil {
		for _, a := range list {
			if !strings.Contains(a.Name, ".") {
				arch[a.Size] = a.Raw
			}
		}
	}
	for _, w := range ws {
		files, err := l.cosignedBy(w.Name)
		if err != nil {
			return nil, nil, 0, err
		}
		var newest *Checkpoint
		for _, f := range files {
			cp, err := ParseCheckpoint(f.Raw, l.keys.verifier)
			if err == nil {
				_, err = note.Open(f.Raw, note.VerifierList(w.Verifier))
			}
			if err != nil || cp.Size != f.Size {
				problems = append(problems, fmt.Sprintf("cosignature %s: forged or damaged: it does not verify with the log's and the witness's keys", f.Name))
				continue
			}
			if want, ok := arch[cp.Size]; !ok || !sameBody(want, f.Raw, l.keys.verifier) {
				problems = append(problems, fmt.Sprintf("cosignature %s: witness %s cosigned a checkpoint of size %d that is not the archived one", f.Name, w.Name, cp.Size))
			}
			newest = cp
		}
		if newest != nil {
			if err := l.extends(ctx, cur, newest, "witness "+w.Name); err != nil {
				problems = append(problems, err.Error())
				rolledBack = max(rolledBack, newest.Size)
			}
		}
		if cur == nil {
			continue
		}
		err = l.cosign(ctx, hc, w, cur, true)
		var rb *RollbackError
		switch {
		case errors.As(err, &rb):
			problems = append(problems, rb.Error())
			rolledBack = max(rolledBack, rb.Seen)
		case err != nil:
			size, at, _ := l.lastCosigned(w)
			stale := "it has never cosigned this ledger"
			if !at.IsZero() {
				stale = fmt.Sprintf("its newest cosignature covers %d of %d entries, from %s (%s ago)", size, cur.Size, at.UTC().Format(time.RFC3339), now.Sub(at).Round(time.Second))
			}
			warnings = append(warnings, fmt.Sprintf("%v; %s", err, stale))
		}
	}
	return problems, warnings, rolledBack, nil
}

// sameBody reports whether two signed checkpoints sign the same text.
func sameBody(a, b []byte, v note.Verifier) bool {
	ba, err := checkpointBody(a, v)
	if err != nil {
		return false
	}
	bb, err := checkpointBody(b, v)
	return err == nil && bytes.Equal(ba, bb)
}
