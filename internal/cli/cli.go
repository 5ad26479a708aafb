// SPDX-License-Identifier: Apache-2.0

// Package cli implements the groundtruth command line.
//
// Exit status: 0 on success, 1 when an operation fails (or verify finds a
// problem), 2 for bad usage or bad input. Errors are one line on stderr
// that say what went wrong, where, and what to do.
package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/klog/v2"

	"groundtruth/internal/capture"
	"groundtruth/internal/casefile"
	"groundtruth/internal/disclosure"
	"groundtruth/internal/ledger"
	"groundtruth/internal/locker"
	"groundtruth/internal/store"
	"groundtruth/internal/web"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitInput   = 2
)

// inputError marks an error caused by the user's input or usage: exit 2.
type inputError struct{ err error }

func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }

func badInput(format string, args ...any) error {
	return &inputError{fmt.Errorf(format, args...)}
}

// env is what every command gets: where the data is, who is acting, and
// where to write.
type env struct {
	ctx       context.Context
	data      string
	origin    string // ledger name for init
	dataGiven bool   // --data or GROUNDTRUTH_DATA named the directory
	user      string
	stdout    io.Writer
	stderr    io.Writer
	stdin     io.Reader
	// witnessFile keeps the ledger's largest checkpoint outside the data
	// directory, for rollback detection: --witness-file,
	// GROUNDTRUTH_WITNESS_FILE, or a file in the user's state directory
	// (stateDir, named after the ledger) when empty.
	witnessFile string
	stateDir    string
	log         *slog.Logger
	now         func() time.Time
	// captureConfig is the operator's capture settings for serve.
	captureConfig capture.Config
	// policy is what the public sees ($GROUNDTRUTH_ORGANISATION names the
	// desk in place of its staff): serve and show --public apply it.
	policy disclosure.Policy
	// webConfig and serverLimits are the operator's transport and
	// sign-in settings for serve (serve.go).
	webConfig    web.Config
	serverLimits web.ServerLimits
}

type command struct {
	name    string
	args    string
	summary string
	run     func(e *env, args []string) error
}

func commands() []command {
	return []command{
		{"init", "", "create the data directory (database and locker)", runInit},
		{"migrate", "", "bring an existing data directory's database up to this version", runMigrate},
		{"load", "FILE | --demo", "load a case file (all or nothing; loading twice changes nothing)", runLoad},
		{"ingest", "FILE... [--incident SLUG] [--url URL] [--platform P] [--channel C] [--posted-at T] [--captured-at T] [--graphic] [--personal-data] [--credit TEXT]", "preserve originals in the locker, with where they were seen", runIngest},
		{"analyse", "SLUG... | --all", "analyse originals again, or every original not analysed yet: hashes, metadata, keyframes, near-duplicates", runAnalyse},
		{"match", "FILE [--json] [--max-distance N]", "list the analysed originals a photo or video is a near-duplicate of, without ingesting it", runMatch},
		{"capture", "URL... [--incident SLUG] [--allow CIDR] [--timeout D] [--retries N]", "archive web pages and posts: WARC, WACZ, screenshot, PDF and media, into the locker and the ledger", runCapture},
		{"jobs", "[--json] [--state S]", "list queued, running and finished jobs (captures, analyses)", runJobs},
		{"incidents", "[--json]", "list incidents", runIncidents},
		{"show", "SLUG [--json]", "show an incident, or an evidence item", runShow},
		{"evidence", "[--incident SLUG] [--json]", "list evidence items with their sightings", runEvidence},
		{"casualties", "[--by side|status|place|month] [--json]", "sum documented casualties across incidents (tallies never added)", runCasualties},
		{"tallies", "[--json]", "list reported running totals, each reconciled with the documented incidents", runTallies},
		{"history", "KIND SLUG [--json]", "show every version of a record: who changed it, when and why", runHistory},
		{"verify", "", "re-hash every original and check the database against the locker", runVerify},
		{"receipt", "SLUG [--out FILE]", "write the ledger receipt of an evidence item's original (C2SP tlog-proof)", runReceipt},
		{"verify-receipt", "RECEIPT [FILE] --key KEY", "check a receipt offline, with no data directory", runVerifyReceipt},
		{"ledger", "key | consistency OLD_CHECKPOINT|RECEIPT | tsa add NAME URL [--roots FILE] [--every D] | tsa list | timestamp | witness add NAME URL VKEY | witness list", "the ledger's public key; proof the log only grew; RFC 3161 time-stamping authorities; witnesses that cosign checkpoints", runLedger},
		{"witness", "serve --dir DIR --name NAME --log VKEY... [--addr ADDR]", "witness other groundtruth ledgers: cosign their checkpoints (C2SP tlog-witness)", runWitness},
		{"user", "add NAME --role R [--password-stdin] | password NAME [--password-stdin] | list | role NAME ROLE --reason T | disable NAME --reason T | enable NAME --reason T | tokens NAME | revoke NAME TOKEN-ID|--all --reason T", "manage accounts (roles: admin, editor, analyst, viewer); each change is logged and in the ledger", runUser},
		{"serve", "[--addr ADDR]", "serve the web interface", runServe},
		{"demo", "[--addr ADDR]", "init a fresh data directory, load the built-in case and serve it", runDemo},
	}
}

// Run runs the command line args (without the program name) and returns the
// exit status.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, stdout: stdout, stderr: stderr, stdin: stdin, now: time.Now}
	e.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// Tessera logs through klog; its progress lines are not for users, and
	// its errors reach us as returned errors.
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)

	fs := flag.NewFlagSet("groundtruth", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	data := fs.String("data", "", "data directory (default $GROUNDTRUTH_DATA or ./groundtruth-data)")
	as := fs.String("as", "", "name recorded as the author of changes (default $GROUNDTRUTH_USER or the login name)")
	witnessFile := fs.String("witness-file", "", "file that keeps the ledger's largest checkpoint, outside the data directory (default $GROUNDTRUTH_WITNESS_FILE or a file in ~/.local/state/groundtruth/witness)")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		usage(stdout)
		return exitOK
	} else if err != nil {
		fmt.Fprintf(stderr, "groundtruth: %v: see groundtruth help\n", err)
		return exitInput
	}
	e.dataGiven = *data != "" || getenv("GROUNDTRUTH_DATA") != ""
	e.data = firstOf(*data, getenv("GROUNDTRUTH_DATA"), "groundtruth-data")
	e.user = firstOf(*as, getenv("GROUNDTRUTH_USER"), loginName(getenv))
	e.witnessFile = firstOf(*witnessFile, getenv("GROUNDTRUTH_WITNESS_FILE"))
	if home := getenv("HOME"); getenv("XDG_STATE_HOME") != "" || home != "" {
		e.stateDir = filepath.Join(firstOf(getenv("XDG_STATE_HOME"), filepath.Join(home, ".local", "state")), "groundtruth")
	}
	e.policy = disclosure.Policy{Organisation: getenv("GROUNDTRUTH_ORGANISATION")}

	rest := fs.Args()
	if len(rest) == 0 || rest[0] == "help" || rest[0] == "-h" || rest[0] == "--help" {
		usage(stdout)
		if len(rest) == 0 {
			return exitInput
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name != rest[0] {
			continue
		}
		err := c.run(e, rest[1:])
		if err == nil {
			return exitOK
		}
		if errors.Is(err, errVerifyFailed) {
			return exitFailure
		}
		fmt.Fprintf(stderr, "groundtruth %s: %s\n", c.name, oneLine(err))
		if isInputError(err) {
			return exitInput
		}
		return exitFailure
	}
	fmt.Fprintf(stderr, "groundtruth: unknown command %q: see groundtruth help\n", rest[0])
	return exitInput
}

func isInputError(err error) bool {
	var ie *inputError
	var ce *casefile.Error
	return errors.As(err, &ie) || errors.As(err, &ce)
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: groundtruth [--data DIR] [--as NAME] COMMAND [ARGS]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %s %s\n      %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Exit status: 0 success, 1 failure, 2 bad usage or input. See docs/cli.md.")
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func loginName(getenv func(string) string) string {
	if u := getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

// flags returns a flag set for a subcommand. Parse with parseInterspersed so
// that flags may follow the positional arguments.
func flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseInterspersed parses flags found anywhere in args and returns the
// positional arguments. "--" ends flag parsing.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, badInput("%v: see groundtruth help", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// noArgs parses a command that takes flags only.
func noArgs(fs *flag.FlagSet, args []string) error {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return badInput("%s takes no arguments, got %q: see groundtruth help", fs.Name(), pos[0])
	}
	return nil
}

// Data directory layout.
const (
	dbFile    = "groundtruth.db"
	lockerDir = "locker"
	ledgerDir = "ledger"
	// derivedDir holds files derived from originals (keyframes), content
	// addressed like the locker but outside it: they can be recomputed
	// and are not evidence.
	derivedDir = "derived"
)

// data is an opened data directory.
type data struct {
	st *store.Store
	lk *locker.Locker
	lg *ledger.Ledger
	// derived holds keyframes and other files computed from originals.
	derived *locker.Locker
}

func (d *data) Close() error { return d.st.Close() }

// open opens an initialised data directory. Every change written through
// it records its ledger leaf; call sync before acknowledging the change.
func (e *env) open() (*data, error) {
	db := filepath.Join(e.data, dbFile)
	if _, err := os.Stat(db); err != nil {
		return nil, badInput("no groundtruth data directory at %s: run groundtruth --data %s init, or pass --data", e.data, e.data)
	}
	st, err := store.Open(e.ctx, db)
	if err != nil {
		return nil, err
	}
	lg, err := ledger.Open(filepath.Join(e.data, ledgerDir))
	if err != nil {
		st.Close()
		if errors.Is(err, ledger.ErrNoLedger) {
			return nil, badInput("%s has no ledger: run groundtruth --data %s migrate", e.data, e.data)
		}
		return nil, err
	}
	lg.SetWitnessFile(e.witnessPath(lg))
	st.SetJournal(lg)
	var rb *ledger.RollbackError
	if _, err := lg.CheckWitnessFile(e.ctx); errors.As(err, &rb) {
		// Refuse changes in the transaction that would make them, so that
		// nothing is written to a rolled-back copy; verify reports it.
		st.SetJournal(refusingJournal{lg, rb})
	}
	lk, err := locker.Open(filepath.Join(e.data, lockerDir))
	if err != nil {
		st.Close()
		return nil, err
	}
	derived, err := locker.Open(filepath.Join(e.data, derivedDir))
	if err != nil {
		st.Close()
		return nil, err
	}
	return &data{st: st, lk: lk, lg: lg, derived: derived}, nil
}

// refusingJournal refuses to record any change: the ledger is behind the
// witness file, and growing it would fork the log.
type refusingJournal struct {
	*ledger.Ledger
	err error
}

func (j refusingJournal) Leaf(store.Event) ([]byte, string, error) { return nil, "", j.err }

// witnessPath returns where the ledger's witness file is kept: the path
// given, or else a file of the user's state directory named after the
// ledger's origin and key, so that data directories of different ledgers
// never share one. It is empty (no witness file) only when no home
// directory is known.
func (e *env) witnessPath(lg *ledger.Ledger) string {
	if e.witnessFile != "" || e.stateDir == "" {
		return e.witnessFile
	}
	name, rest, _ := strings.Cut(lg.VerifierKey(), "+")
	hash, _, _ := strings.Cut(rest, "+")
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, name)
	return filepath.Join(e.stateDir, "witness", safe+"+"+hash+".checkpoint")
}

// sync appends the pending leaves to the ledger and waits for a checkpoint
// that covers them: the point after which changes may be acknowledged.
//
// Timestamps from the configured authorities follow, best effort: a
// failing authority is reported as a warning, since the change is already
// durable and provable without it.
func (e *env) sync(d *data) (*ledger.Checkpoint, error) {
	cp, err := d.lg.Sync(e.ctx, d.st)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	for _, err := range d.lg.Timestamp(e.ctx, tsaClient, cp) {
		e.log.WarnContext(e.ctx, "timestamp not obtained", slog.String("error", err.Error()))
	}
	// A witness that is down or refuses does not undo the change, which is
	// durable; it is asked again at the next sync, and verify reports it.
	for _, err := range d.lg.Cosign(e.ctx, witnessClient, cp) {
		e.log.WarnContext(e.ctx, "checkpoint not cosigned", slog.String("error", err.Error()))
	}
	return cp, nil
}

// witnessClient is the HTTP client for witnesses. The timeout bounds how
// long a witness that does not answer delays a write.
var witnessClient = &http.Client{Timeout: 10 * time.Second}

// tsaClient is the HTTP client for time-stamping authorities.
var tsaClient = &http.Client{Timeout: 15 * time.Second}

func (e *env) change(reason string) store.Change {
	return store.Change{By: e.user, At: e.now(), Reason: reason}
}

func runInit(e *env, args []string) error {
	fs := flags("init")
	origin := fs.String("origin", "", "name of the ledger (its checkpoints' origin line); default groundtruth/<random>")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	e.origin = *origin
	return e.initData()
}

func (e *env) initData() error {
	if err := os.MkdirAll(e.data, 0o750); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	st, err := store.Create(e.ctx, filepath.Join(e.data, dbFile))
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := locker.Open(filepath.Join(e.data, lockerDir)); err != nil {
		return err
	}
	if err := e.initLedger(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "initialised %s (schema version %d)\n", e.data, store.LatestVersion())
	return nil
}

// initLedger creates the ledger's key unless it exists.
func (e *env) initLedger() error {
	origin := e.origin
	if origin == "" {
		b := make([]byte, 4)
		rand.Read(b)
		origin = "groundtruth/" + hex.EncodeToString(b)
	}
	if strings.ContainsAny(origin, " +\n") {
		return badInput("--origin %q: a ledger name may not contain spaces or '+'", origin)
	}
	return ledger.Init(filepath.Join(e.data, ledgerDir), origin)
}

func runMigrate(e *env, args []string) error {
	if err := noArgs(flags("migrate"), args); err != nil {
		return err
	}
	db := filepath.Join(e.data, dbFile)
	if _, err := os.Stat(db); err != nil {
		return badInput("no groundtruth data directory at %s: run groundtruth init", e.data)
	}
	st, err := store.Create(e.ctx, db)
	if err != nil {
		return err
	}
	st.Close()
	if err := e.initLedger(); err != nil {
		return err
	}
	d, err := e.open()
	if err != nil {
		return err
	}
	defer d.Close()
	n, err := d.st.JournalMissing(e.ctx, e.now())
	if err != nil {
		return err
	}
	if err := d.st.Reindex(e.ctx); err != nil {
		return err
	}
	if _, err := e.sync(d); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s is at schema version %d; %d earlier item(s) and record(s) entered in the ledger\n", e.data, store.LatestVersion(), n)
	return nil
}
