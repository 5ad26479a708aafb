// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"errors"
	"fmt"

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
	if _, err := e.sync(d); err != nil {
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
	if orphans > 0 {
		fmt.Fprintf(e.stdout, "note: %d file(s) in the locker are not acknowledged by any record (left by an interrupted ingest; ingesting the same file again adopts it)\n", orphans)
	}
	if len(problems) > 0 {
		fmt.Fprintf(e.stdout, "verify: %d problem(s) in %d original(s)\n", len(problems), len(blobs))
		return errVerifyFailed
	}
	cp, _ := d.lg.Latest() // checked above
	fmt.Fprintf(e.stdout, "verify: ok, %d original(s) re-hashed, %d evidence item(s), ledger of %d entries recomputed and matched\n", len(blobs), len(items), cpSize(cp))
	return nil
}
