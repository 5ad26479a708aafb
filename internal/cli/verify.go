// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"groundtruth/internal/ledger"
	"groundtruth/internal/locker"
	"groundtruth/internal/record"
)

// errVerifyFailed is returned by verify after it has printed its findings,
// so that Run exits 1 without printing another line.
var errVerifyFailed = errors.New("verify found problems")

// runVerify re-hashes every original the database acknowledges and checks
// that database and locker agree. Each problem is printed on its own line
// naming the item; files in the locker that no record acknowledges (left by
// an interrupted ingest) are reported but are not problems, since nothing
// was acknowledged for them.
func runVerify(e *env, args []string) error {
	if err := noArgs(flags("verify"), args); err != nil {
		return err
	}
	d, err := e.open()
	if err != nil {
		return err
	}
	defer d.Close()
	st, lk := d.st, d.lk

	// An interrupted ingest may have left leaves that the log does not hold
	// yet; completing them is repair, not concealment: each was written in
	// the same transaction as the change it records.
	var problems []string
	var rb *ledger.RollbackError
	if _, err := e.sync(d); err != nil && !errors.As(err, &rb) { // a rollback is reported below
		problems = append(problems, "could not complete pending ledger appends: "+err.Error())
	}
	blobs, err := st.Blobs(e.ctx)
	if err != nil {
		return err
	}
	held := make(map[string]bool, len(blobs))
	for _, b := range blobs {
		held[b.SHA256] = true
	}
	items, err := st.List(e.ctx, record.KindEvidence)
	if err != nil {
		return err
	}
	slugOf := map[string]string{}
	for _, s := range items {
		ev := s.Record.(*record.Evidence)
		slugOf[ev.SHA256] = ev.Slug
		if !held[ev.SHA256] {
			problems = append(problems, fmt.Sprintf("evidence %s: original %s is not recorded in the blob table", ev.Slug, ev.SHA256))
		}
	}
	for _, b := range blobs {
		name := "original " + b.SHA256
		if slug, ok := slugOf[b.SHA256]; ok {
			name = "evidence " + slug + " (" + b.SHA256 + ")"
		}
		switch err := lk.Check(b.SHA256); {
		case errors.Is(err, locker.ErrNotFound):
			problems = append(problems, name+": the original is missing from the locker")
		case errors.Is(err, locker.ErrIntegrity):
			problems = append(problems, name+": the original's bytes have changed")
		case err != nil:
			problems = append(problems, name+": "+err.Error())
		}
	}
	ledgerProblems, err := d.lg.Check(e.ctx, st)
	if err != nil {
		return err
	}
	problems = append(problems, ledgerProblems...)
	witnessProblems, warnings, rolledBack, err := verifyWitnessed(e, d)
	if err != nil {
		return err
	}
	problems = append(problems, witnessProblems...)

	orphans := 0
	if err := lk.Walk(func(sum string) error {
		if !held[sum] {
			orphans++
		}
		return nil
	}); err != nil {
		return err
	}

	for _, p := range problems {
		fmt.Fprintf(e.stdout, "PROBLEM %s\n", p)
	}
	for _, w := range warnings {
		fmt.Fprintf(e.stdout, "WARNING %s\n", w)
	}
	if orphans > 0 && rolledBack > 0 {
		// Not an interrupted ingest: the ledger once held more than the
		// database does now, and these are likely the originals whose
		// records an older copy replaced.
		fmt.Fprintf(e.stdout, "PROBLEM %d file(s) in the locker are not acknowledged by any record, and the ledger once held %d entries: likely originals whose records were lost when an older copy of the data directory was restored; keep them and restore the newest copy\n", orphans, rolledBack)
		problems = append(problems, "orphans after a rollback")
	} else if orphans > 0 {
		fmt.Fprintf(e.stdout, "note: %d file(s) in the locker are not acknowledged by any record (left by an interrupted ingest; ingesting the same file again adopts it)\n", orphans)
	}
	if len(problems) > 0 {
		fmt.Fprintf(e.stdout, "verify: %d problem(s) in %d original(s)\n", len(problems), len(blobs))
		return errVerifyFailed
	}
	cp, _ := d.lg.Latest() // checked above
	witnessed := ""
	if d.lg.WitnessFile() != "" {
		witnessed = ", not behind the largest checkpoint seen (" + d.lg.WitnessFile() + ")"
	}
	fmt.Fprintf(e.stdout, "verify: ok, %d original(s) re-hashed, %d evidence item(s), ledger of %d entries recomputed and matched%s\n", len(blobs), len(items), cpSize(cp), witnessed)
	return nil
}

// verifyWitnessed compares the ledger with what was seen of it outside the
// data directory: the witness file, and the configured witnesses (asked
// now). It returns problems, warnings, and the largest tree size a witness
// proves the ledger once had when it is larger than, or not extended by,
// the ledger here (0 otherwise).
func verifyWitnessed(e *env, d *data) (problems, warnings []string, rolledBack uint64, err error) {
	var rb *ledger.RollbackError
	switch _, err := d.lg.CheckWitnessFile(e.ctx); {
	case d.lg.WitnessFile() == "":
		warnings = append(warnings, "no witness file (no home directory known): set GROUNDTRUTH_WITNESS_FILE to a file outside the data directory, or a rollback of the data directory goes unnoticed")
	case errors.As(err, &rb):
		problems = append(problems, rb.Error())
		rolledBack = rb.Seen
	case err != nil:
		problems = append(problems, err.Error())
	}
	if inside(e.data, d.lg.WitnessFile()) {
		warnings = append(warnings, "the witness file "+d.lg.WitnessFile()+" is inside the data directory: a restore of the directory restores it too; keep it elsewhere (--witness-file)")
	}
	wp, ww, seen, err := d.lg.CheckWitnesses(e.ctx, witnessClient, e.now())
	if err != nil {
		return nil, nil, 0, err
	}
	return append(problems, wp...), append(warnings, ww...), max(rolledBack, seen), nil
}

// inside reports whether path is inside dir.
func inside(dir, path string) bool {
	if path == "" {
		return false
	}
	ad, err1 := filepath.Abs(dir)
	ap, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(ad, ap)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
