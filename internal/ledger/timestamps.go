// SPDX-License-Identifier: Apache-2.0

package ledger

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"groundtruth/internal/timestamp"
)

// Timestamping configuration and storage, inside the ledger directory:
//
//	timestamping              one authority a line: NAME URL EVERY
//	tsa/NAME.pem              the authority's root certificates, if given
//	timestamps/SIZE.body      the body of checkpoint SIZE, the stamped data
//	timestamps/SIZE.NAME.tsr  the full RFC 3161 response of authority NAME
//
// A token over SHA-256(SIZE.body) from a trusted authority proves that the
// checkpoint, and so every entry of its tree, existed at the token's time.
// Anyone can check it without groundtruth:
//
//	openssl ts -verify -data SIZE.body -in SIZE.NAME.tsr -CAfile NAME.pem
const (
	tsaConfig     = "timestamping"
	tsaDir        = "tsa"
	timestampsDir = "timestamps"
)

// TSA is a configured time-stamping authority.
type TSA struct {
	Name  string
	URL   string
	Every time.Duration // at most one token per this interval
	Roots *x509.CertPool
}

var tsaNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,30}$`)

// AddTSA configures an authority. rootsPEM may be nil, in which case its
// tokens are checked in every way but the chain to a trusted root.
func (l *Ledger) AddTSA(name, rawURL string, every time.Duration, rootsPEM []byte) error {
	if !tsaNameRE.MatchString(name) {
		return fmt.Errorf("authority name %q: use 1 to 31 lower-case letters, digits and hyphens", name)
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(rawURL, " \n") {
		return fmt.Errorf("authority URL %q: give an http or https URL", rawURL)
	}
	if rootsPEM != nil {
		if !x509.NewCertPool().AppendCertsFromPEM(rootsPEM) {
			return fmt.Errorf("the roots file holds no PEM certificate")
		}
		if err := os.MkdirAll(filepath.Join(l.dir, tsaDir), 0o750); err != nil {
			return err
		}
		if err := writeFileSync(filepath.Join(l.dir, tsaDir, name+".pem"), rootsPEM, 0o644); err != nil {
			return err
		}
	}
	tsas, err := l.TSAs()
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, t := range tsas {
		if t.Name != name {
			fmt.Fprintf(&b, "%s %s %s\n", t.Name, t.URL, t.Every)
		}
	}
	fmt.Fprintf(&b, "%s %s %s\n", name, rawURL, every)
	return writeFileSync(filepath.Join(l.dir, tsaConfig), []byte(b.String()), 0o600)
}

// TSAs returns the configured authorities.
func (l *Ledger) TSAs() ([]TSA, error) {
	b, err := os.ReadFile(filepath.Join(l.dir, tsaConfig))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: read %s: %w", tsaConfig, err)
	}
	var out []TSA
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("ledger: %s:%d: want NAME URL EVERY", tsaConfig, n)
		}
		every, err := time.ParseDuration(f[2])
		if err != nil {
			return nil, fmt.Errorf("ledger: %s:%d: %v", tsaConfig, n, err)
		}
		t := TSA{Name: f[0], URL: f[1], Every: every}
		if pem, err := os.ReadFile(filepath.Join(l.dir, tsaDir, t.Name+".pem")); err == nil {
			t.Roots = x509.NewCertPool()
			t.Roots.AppendCertsFromPEM(pem)
		}
		out = append(out, t)
	}
	return out, nil
}

// Timestamp asks every configured authority whose last token is older than
// its interval for a token over the checkpoint's body, checks it, and
// stores the body and the full response. It returns one error per
// authority that failed; the others' tokens are kept.
func (l *Ledger) Timestamp(ctx context.Context, client *http.Client, cp *Checkpoint) []error {
	tsas, err := l.TSAs()
	if err != nil {
		return []error{err}
	}
	if len(tsas) == 0 || cp == nil {
		return nil
	}
	body, err := checkpointBody(cp.Raw, l.keys.verifier)
	if err != nil {
		return []error{err}
	}
	dir := filepath.Join(l.dir, timestampsDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return []error{err}
	}
	size := strconv.FormatUint(cp.Size, 10)
	var errs []error
	for _, t := range tsas {
		tsr := filepath.Join(dir, size+"."+t.Name+".tsr")
		if _, err := os.Stat(tsr); err == nil || l.stampedWithin(t) {
			continue
		}
		resp, err := timestamp.Request(ctx, client, t.URL, body)
		if err == nil && t.Roots != nil {
			_, err = timestamp.Verify(resp.DER, body, nil, t.Roots)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("ledger: timestamp from %s: %w", t.Name, err))
			continue
		}
		if err := writeFileSync(filepath.Join(dir, size+".body"), body, 0o444); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := writeFileSync(tsr, resp.DER, 0o444); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// stampedWithin reports whether authority t gave a token less than its
// interval ago.
func (l *Ledger) stampedWithin(t TSA) bool {
	if t.Every <= 0 {
		return false
	}
	matches, _ := filepath.Glob(filepath.Join(l.dir, timestampsDir, "*."+t.Name+".tsr"))
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && time.Since(fi.ModTime()) < t.Every {
			return true
		}
	}
	return false
}

// checkpointBody returns the signed text of a checkpoint: the data a
// timestamp covers.
func checkpointBody(raw []byte, v note.Verifier) ([]byte, error) {
	n, err := note.Open(raw, note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("ledger: checkpoint: %w", err)
	}
	return []byte(n.Text), nil
}

// checkTimestamps checks every stored token: it verifies (with the
// authority's roots when configured), covers the stored body, and the body
// is the one of the archived checkpoint of that size.
func (l *Ledger) checkTimestamps(arch map[uint64][]byte, add func(string, ...any)) {
	dir := filepath.Join(l.dir, timestampsDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		add("timestamps: %v", err)
		return
	}
	tsas, err := l.TSAs()
	if err != nil {
		add("timestamps: %v", err)
	}
	roots := map[string]*x509.CertPool{}
	for _, t := range tsas {
		roots[t.Name] = t.Roots
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tsr") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, name := range names {
		parts := strings.SplitN(strings.TrimSuffix(name, ".tsr"), ".", 2)
		size, err := strconv.ParseUint(parts[0], 10, 64)
		if err != nil || len(parts) != 2 {
			add("timestamps: %s: unexpected file name", name)
			continue
		}
		body, err := os.ReadFile(filepath.Join(dir, parts[0]+".body"))
		if err != nil {
			add("timestamp %s: the stamped checkpoint body is missing", name)
			continue
		}
		if raw, ok := arch[size]; !ok {
			add("timestamp %s: no archived checkpoint of size %d", name, size)
		} else if want, err := checkpointBody(raw, l.keys.verifier); err != nil || !bytes.Equal(want, body) {
			add("timestamp %s: the stamped body is not the archived checkpoint of size %d", name, size)
		}
		der, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			add("timestamp %s: %v", name, err)
			continue
		}
		if _, err := timestamp.Verify(der, body, nil, roots[parts[1]]); err != nil {
			add("timestamp %s: %v", name, err)
		}
	}
}
