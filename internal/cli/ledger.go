// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"groundtruth/internal/ledger"
	"groundtruth/internal/record"
	"groundtruth/internal/store"
)

// runReceipt writes the receipt of an evidence item's original: proof
// that the ledger held it, checkable offline with verify-receipt.
func runReceipt(e *env, args []string) error {
	fs := flags("receipt")
	out := fs.String("out", "", "file to write the receipt to (default: standard output)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return badInput("give one evidence item: groundtruth receipt SLUG [--out FILE]")
	}
	d, err := e.open()
	if err != nil {
		return err
	}
	defer d.Close()
	receipt, err := itemReceipt(e, d, pos[0])
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = e.stdout.Write(receipt)
		return err
	}
	if err := os.WriteFile(*out, receipt, 0o644); err != nil {
		return fmt.Errorf("write receipt: %w", err)
	}
	fmt.Fprintf(e.stdout, "wrote %s\n", *out)
	return nil
}

func itemReceipt(e *env, d *data, slug string) ([]byte, error) {
	st, err := d.st.Get(e.ctx, record.KindEvidence, slug)
	if errors.Is(err, store.ErrNotFound) {
		return nil, badInput("no evidence item with slug %q: see groundtruth evidence", slug)
	}
	if err != nil {
		return nil, err
	}
	ev := st.Record.(*record.Evidence)
	receipt, err := d.lg.ItemReceipt(e.ctx, d.st, ev.SHA256)
	if errors.Is(err, ledger.ErrNotLogged) {
		// An interrupted ingest: complete it, then answer.
		if _, err := e.sync(d); err != nil {
			return nil, err
		}
		receipt, err = d.lg.ItemReceipt(e.ctx, d.st, ev.SHA256)
	}
	return receipt, err
}

// runVerifyReceipt checks a receipt with nothing but the receipt, the
// ledger's public key and, optionally, the file. It needs no data
// directory.
func runVerifyReceipt(e *env, args []string) error {
	fs := flags("verify-receipt")
	key := fs.String("key", "", "the ledger's verifier key, or a file holding it (groundtruth ledger key prints it)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 || *key == "" {
		return badInput("usage: groundtruth verify-receipt RECEIPT [FILE] --key KEY")
	}
	v, err := ledger.ParseVerifierKey(*key)
	if err != nil {
		return badInput("--key: %v", err)
	}
	receipt, err := os.ReadFile(pos[0])
	if err != nil {
		return badInput("cannot read receipt %s: %v", pos[0], errors.Unwrap(err))
	}
	var file io.Reader
	if len(pos) == 2 {
		fh, err := os.Open(pos[1])
		if err != nil {
			return badInput("cannot read %s: %v", pos[1], errors.Unwrap(err))
		}
		defer fh.Close()
		file = fh
	}
	res, err := ledger.VerifyReceipt(receipt, file, v)
	if err != nil {
		fmt.Fprintf(e.stdout, "FAILED %s: %v\n", pos[0], err)
		return errVerifyFailed
	}
	what := "the original with sha256 " + res.SHA256
	if res.FileMatch {
		what = pos[1] + " (sha256 " + res.SHA256 + ")"
	}
	fmt.Fprintf(e.stdout, "OK %s is entry %d of ledger %s, in the signed tree of %d entries (logged %s, event %s)\n",
		what, res.Index, res.Origin, res.TreeSize, res.Leaf.Time, res.Leaf.Event)
	return nil
}

// runLedger handles "ledger key" and "ledger consistency OLD".
func runLedger(e *env, args []string) error {
	if len(args) == 0 {
		return badInput("usage: groundtruth ledger key | groundtruth ledger consistency OLD_CHECKPOINT")
	}
	if args[0] == "tsa" || args[0] == "timestamp" {
		return runLedgerTimestamping(e, args)
	}
	if args[0] == "witness" {
		return runLedgerWitness(e, args[1:])
	}
	fs := flags("ledger " + args[0])
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	switch {
	case args[0] == "key" && len(pos) == 0:
		lg, err := ledger.Open(e.data + "/" + ledgerDir)
		if errors.Is(err, ledger.ErrNoLedger) {
			return badInput("no ledger in %s: run groundtruth init or migrate", e.data)
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, lg.VerifierKey())
		return nil
	case args[0] == "consistency" && len(pos) == 1:
		d, err := e.open()
		if err != nil {
			return err
		}
		defer d.Close()
		raw, err := os.ReadFile(pos[0])
		if err != nil {
			return badInput("cannot read checkpoint %s: %v", pos[0], errors.Unwrap(err))
		}
		old, fromReceipt, err := ledger.OldCheckpoint(raw, d.lg.Verifier())
		if err != nil {
			return badInput("%s: %v", pos[0], err)
		}
		if fromReceipt {
			fmt.Fprintf(e.stdout, "%s is a receipt: checking the checkpoint it carries (tree of %d entries)\n", pos[0], old.Size)
		}
		cur, proof, err := d.lg.ConsistencyProof(e.ctx, old)
		if err != nil {
			fmt.Fprintf(e.stdout, "INCONSISTENT %s: %v\n", pos[0], err)
			return errVerifyFailed
		}
		fmt.Fprintf(e.stdout, "consistent: the tree of %d entries in %s is a prefix of the current tree of %d entries\n", old.Size, pos[0], cur.Size)
		fmt.Fprintf(e.stdout, "proof (%d hashes):\n", len(proof))
		for _, h := range proof {
			fmt.Fprintln(e.stdout, base64.StdEncoding.EncodeToString(h))
		}
		fmt.Fprintf(e.stdout, "current checkpoint:\n%s", bytes.TrimLeft(cur.Raw, "\n"))
		return nil
	}
	return badInput("usage: groundtruth ledger key | consistency OLD_CHECKPOINT|RECEIPT | tsa add NAME URL [--roots FILE] [--every D] | tsa list | timestamp | witness add NAME URL VKEY | witness list")
}

// runLedgerWitness configures the witnesses that cosign the ledger's
// checkpoints.
func runLedgerWitness(e *env, args []string) error {
	pos, err := parseInterspersed(flags("ledger witness"), args)
	if err != nil {
		return err
	}
	usage := badInput("usage: groundtruth ledger witness add NAME URL VKEY | witness list")
	if len(pos) == 0 || !(pos[0] == "add" && len(pos) == 4 || pos[0] == "list" && len(pos) == 1) {
		return usage
	}
	d, err := e.open()
	if err != nil {
		return err
	}
	defer d.Close()
	if pos[0] == "list" {
		ws, err := d.lg.Witnesses()
		if err != nil {
			return err
		}
		for _, w := range ws {
			fmt.Fprintf(e.stdout, "%s %s %s\n", w.Name, w.URL, w.VKey)
		}
		return nil
	}
	if err := d.lg.AddWitness(pos[1], pos[2], pos[3]); err != nil {
		return badInput("%v", err)
	}
	fmt.Fprintf(e.stdout, "added witness %s; it will be asked to cosign at every change (give its operator the ledger's key: %s)\n", pos[1], d.lg.VerifierKey())
	// Ask now, so that a wrong URL or key shows at once.
	cp, err := d.lg.Latest()
	if err != nil {
		return err
	}
	for _, err := range d.lg.Cosign(e.ctx, witnessClient, cp) {
		fmt.Fprintf(e.stdout, "WARNING %v\n", err)
	}
	return nil
}

// runWitness runs a witness for other ledgers: "witness serve".
func runWitness(e *env, args []string) error {
	fs := flags("witness")
	dir := fs.String("dir", "", "directory of the witness's key and state (created on first use)")
	name := fs.String("name", "", "the witness's name, the name of its key (e.g. witness.example.org)")
	addr := fs.String("addr", "127.0.0.1:7380", "address to listen on")
	var logs []string
	fs.Func("log", "verifier key of a ledger to witness, or a file holding it (repeat for several)", func(s string) error {
		logs = append(logs, s)
		return nil
	})
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "serve" || *dir == "" || *name == "" || len(logs) == 0 {
		return badInput("usage: groundtruth witness serve --dir DIR --name NAME --log VKEY [--log VKEY...] [--addr ADDR]")
	}
	if strings.ContainsAny(*name, " +\n") {
		return badInput("--name %q: a witness name may not contain spaces or '+'", *name)
	}
	var vs []note.Verifier
	for _, l := range logs {
		v, err := ledger.ParseVerifierKey(l)
		if err != nil {
			return badInput("--log: %v", err)
		}
		vs = append(vs, v)
	}
	ws, err := ledger.NewWitnessServer(*dir, *name, vs)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return badInput("cannot listen on %s: %v: choose another --addr", *addr, err)
	}
	srv := &http.Server{Handler: ws, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(e.stdout, "witness %s, key %s\nlistening on http://%s/\n", *name, ws.VerifierKey(), ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-e.ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

// runLedgerTSA configures time-stamping authorities and asks them for
// tokens.
func runLedgerTimestamping(e *env, args []string) error {
	fs := flags("ledger " + args[0])
	roots := fs.String("roots", "", "PEM file of the authority's root certificates (without it the chain is not checked)")
	every := fs.Duration("every", time.Minute, "ask this authority at most once per this interval")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	d, err := e.open()
	if err != nil {
		return err
	}
	defer d.Close()
	switch {
	case args[0] == "tsa" && len(pos) == 3 && pos[0] == "add":
		var pem []byte
		if *roots != "" {
			if pem, err = os.ReadFile(*roots); err != nil {
				return badInput("cannot read --roots %s: %v", *roots, errors.Unwrap(err))
			}
		}
		if err := d.lg.AddTSA(pos[1], pos[2], *every, pem); err != nil {
			return badInput("%v", err)
		}
		fmt.Fprintf(e.stdout, "added time-stamping authority %s\n", pos[1])
		return nil
	case args[0] == "tsa" && len(pos) == 1 && pos[0] == "list":
		tsas, err := d.lg.TSAs()
		if err != nil {
			return err
		}
		for _, t := range tsas {
			fmt.Fprintf(e.stdout, "%s %s every %s (roots: %v)\n", t.Name, t.URL, t.Every, t.Roots != nil)
		}
		return nil
	case args[0] == "timestamp" && len(pos) == 0:
		cp, err := d.lg.Latest()
		if err != nil {
			return err
		}
		if cp == nil {
			return badInput("the ledger has no checkpoint yet: load or ingest something first")
		}
		errs := d.lg.Timestamp(e.ctx, tsaClient, cp)
		for _, err := range errs {
			fmt.Fprintf(e.stdout, "FAILED %v\n", err)
		}
		if len(errs) > 0 {
			return errVerifyFailed
		}
		fmt.Fprintf(e.stdout, "checkpoint of %d entries timestamped by every configured authority\n", cp.Size)
		return nil
	}
	return badInput("usage: groundtruth ledger tsa add NAME URL [--roots FILE] [--every D] | tsa list | timestamp")
}
