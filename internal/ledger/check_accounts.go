// SPDX-License-Identifier: Apache-2.0

package ledger

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"groundtruth/internal/account"
	"groundtruth/internal/store"
)

// accountRows is what the store holds about accounts that leaves commit
// to.
type accountRows struct {
	users  []store.RawUser
	tokens []store.RawToken
	access []store.RawAccess
}

func readAccountRows(ctx context.Context, st *store.Store) (*accountRows, error) {
	var r accountRows
	var err error
	if r.users, err = st.RawUsers(ctx); err != nil {
		return nil, err
	}
	if r.tokens, err = st.RawTokens(ctx); err != nil {
		return nil, err
	}
	if r.access, err = st.RawAccessLog(ctx); err != nil {
		return nil, err
	}
	return &r, nil
}

// recordLeaves returns the leaves about records and originals, leaving
// out those about accounts, tokens and the access log.
func recordLeaves(leaves []store.LeafRow) []store.LeafRow {
	var out []store.LeafRow
	for _, lr := range leaves {
		if !isAccountKind(lr.Kind) {
			out = append(out, lr)
		}
	}
	return out
}

// leafAt is a parsed leaf with where the store keeps it.
type leafAt struct {
	Leaf
	seq int64
}

// parsedLeaves groups the parsable leaves of the kinds wanted by kind and
// ref, oldest first. Unparsable leaves are reported by checkLeaves.
func parsedLeaves(all []store.LeafRow, want func(kind string) bool) map[string]map[string][]leafAt {
	out := map[string]map[string][]leafAt{}
	for _, lr := range all {
		if !want(lr.Kind) {
			continue
		}
		leaf, err := ParseLeaf(lr.Leaf)
		if err != nil {
			continue
		}
		if out[lr.Kind] == nil {
			out[lr.Kind] = map[string][]leafAt{}
		}
		out[lr.Kind][lr.Ref] = append(out[lr.Kind][lr.Ref], leafAt{leaf, lr.Seq})
	}
	return out
}

// checkAccounts checks the users, api_tokens and access_log rows against
// their leaves: every row has a leaf; a user's or token's latest leaf
// commits to the row as it is now; each access-log entry matches its leaf;
// and every leaf's row still exists, so that a wiped or truncated access
// log, a role raised in the users table or a user row added behind
// groundtruth's back is named.
//
// all holds every leaf, read after the rows: a row has its leaf there
// even if it was written during the check. Leaves past maxSeq were written
// during the check: their rows may postdate the rows read, so a subject
// with such a leaf is not compared, and such a leaf does not need a row.
func (l *Ledger) checkAccounts(ar *accountRows, all []store.LeafRow, maxSeq int64, add func(string, ...any)) {
	var lines []string
	say := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	by := parsedLeaves(all, isAccountKind)

	seen := map[string]bool{}
	for _, u := range ar.users {
		seen[u.Name] = true
		ls := by[store.AccountKind][u.Name]
		if len(ls) == 0 {
			say("user %s: no ledger leaf: added outside groundtruth", u.Name)
			continue
		}
		last := ls[len(ls)-1]
		if last.seq > maxSeq || last.Content == l.accountContent(store.AccountKind, u.Name, last.Version, u.State) {
			continue
		}
		say("%s", l.accountDiff(u, last))
	}
	seenTok := map[string]bool{}
	for _, k := range ar.tokens {
		seenTok[k.ID] = true
		ls := by[store.TokenKind][k.ID]
		if len(ls) == 0 {
			say("token %s of user %s: no ledger leaf: added outside groundtruth", k.ID, k.User)
			continue
		}
		last := ls[len(ls)-1]
		if last.seq > maxSeq || last.Content == l.accountContent(store.TokenKind, k.ID, last.Version, k.State) {
			continue
		}
		if last.Content == l.accountContent(store.TokenKind, k.ID, last.Version, store.TokenState(k.User, k.Scope, k.Hash, !k.Revoked)) {
			say("token %s of user %s: %s in the database, %s in the ledger: changed outside groundtruth", k.ID, k.User, liveOr(k.Revoked, "revoked"), liveOr(!k.Revoked, "revoked"))
		} else {
			say("token %s of user %s: its owner, scope or hash in the database does not match its ledger leaf: changed outside groundtruth", k.ID, k.User)
		}
	}
	for kind, seenOf := range map[string]map[string]bool{store.AccountKind: seen, store.TokenKind: seenTok} {
		for ref, ls := range by[kind] {
			if !seenOf[ref] && ls[0].seq <= maxSeq {
				say("%s %s: it has ledger leaves but no database row: deleted outside groundtruth", map[string]string{store.AccountKind: "user", store.TokenKind: "token"}[kind], ref)
			}
		}
	}

	// The access log: one leaf per entry, by seq.
	present := map[int64]bool{}
	for _, a := range ar.access {
		present[a.Seq] = true
		ls := by[store.AccessKind][strconv.FormatInt(a.Seq, 10)]
		switch {
		case len(ls) == 0:
			say("access log entry %d (%s): no ledger leaf: added outside groundtruth", a.Seq, a.At)
		case len(ls) > 1:
			say("access log entry %d (%s): %d ledger leaves name this entry: the log was rewritten outside groundtruth", a.Seq, a.At, len(ls))
		case ls[0].Content != l.accountContent(store.AccessKind, "", int(a.Seq), a.Entry):
			say("access log entry %d (%s): does not match its ledger leaf: changed outside groundtruth", a.Seq, a.At)
		}
	}
	var missing []int64
	for ref, ls := range by[store.AccessKind] {
		seq, err := strconv.ParseInt(ref, 10, 64)
		if err != nil {
			say("access log: leaf seq %d names entry %q, not a number", ls[0].seq, ref)
			continue
		}
		if !present[seq] && ls[0].seq <= maxSeq {
			missing = append(missing, seq)
		}
	}
	sort.Strings(lines)
	for _, line := range lines {
		add("%s", line)
	}
	if len(missing) > 0 {
		add("access log: %d of the %d entries the ledger holds are missing from the database (%s): wiped or truncated outside groundtruth",
			len(missing), len(by[store.AccessKind]), spans(missing))
	}
}

func liveOr(revoked bool, word string) string {
	if revoked {
		return word
	}
	return "live"
}

// accountDiff says how a users row differs from its latest leaf, trying
// the changes that matter most: a role, then the state.
func (l *Ledger) accountDiff(u store.RawUser, last leafAt) string {
	matches := func(role string, disabled bool) bool {
		return last.Content == l.accountContent(store.AccountKind, u.Name, last.Version, store.AccountState(role, disabled, u.PasswordHash))
	}
	for _, r := range account.Roles {
		if string(r) != u.Role && matches(string(r), u.Disabled) {
			return fmt.Sprintf("user %s: role %s in the database, %s in the ledger: changed outside groundtruth", u.Name, u.Role, r)
		}
	}
	state := func(disabled bool) string {
		if disabled {
			return "disabled"
		}
		return "enabled"
	}
	if matches(u.Role, !u.Disabled) {
		return fmt.Sprintf("user %s: %s in the database, %s in the ledger: changed outside groundtruth", u.Name, state(u.Disabled), state(!u.Disabled))
	}
	return fmt.Sprintf("user %s: its password hash (or its role and state together) does not match its ledger leaf: changed outside groundtruth", u.Name)
}

// spans writes sorted numbers as ranges: "entries 1–4, 9".
func spans(ns []int64) string {
	sort.Slice(ns, func(i, j int) bool { return ns[i] < ns[j] })
	var parts []string
	for i := 0; i < len(ns); {
		j := i
		for j+1 < len(ns) && ns[j+1] == ns[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, strconv.FormatInt(ns[i], 10))
		} else {
			parts = append(parts, fmt.Sprintf("%d–%d", ns[i], ns[j]))
		}
		i = j + 1
	}
	return "entries " + strings.Join(parts, ", ")
}

// checkHistory checks every record_history row against the leaves about
// its record: each version has a leaf (versions before a backfill leaf
// predate the ledger), of the same operation, and each record leaf has its
// history row. Content and who-and-why are compared by checkCommitments.
// all and maxSeq are as for checkAccounts.
func checkHistory(history []store.RawVersion, all []store.LeafRow, maxSeq int64, add func(string, ...any)) {
	by := parsedLeaves(all, func(kind string) bool { return kind != store.BlobKind && !isAccountKind(kind) })
	type version struct {
		kind, slug string
		v          int
	}
	leaves := map[version]leafAt{}
	backfilled := map[version]int{} // record (v 0) → highest backfilled version
	for kind, refs := range by {
		for slug, ls := range refs {
			for _, lf := range ls {
				leaves[version{kind, slug, lf.Version}] = lf
				if lf.Event == string(store.Backfilled) {
					k := version{kind, slug, 0}
					backfilled[k] = max(backfilled[k], lf.Version)
				}
			}
		}
	}
	var lines []string
	have := map[version]bool{}
	for _, h := range history {
		k := version{h.Kind, h.Slug, h.Version}
		have[k] = true
		lf, ok := leaves[k]
		switch {
		case !ok && h.Version <= backfilled[version{h.Kind, h.Slug, 0}]:
			// written before the ledger existed
		case !ok:
			lines = append(lines, fmt.Sprintf("%s %s: history version %d has no ledger leaf: added outside groundtruth", h.Kind, h.Slug, h.Version))
		case lf.Event != string(store.Backfilled) && lf.Event != h.Op:
			lines = append(lines, fmt.Sprintf("%s %s: history version %d is a %s in the database, a %s in the ledger: changed outside groundtruth", h.Kind, h.Slug, h.Version, h.Op, lf.Event))
		}
	}
	for k, lf := range leaves {
		if !have[k] && lf.seq <= maxSeq {
			lines = append(lines, fmt.Sprintf("%s %s: history version %d is in the ledger but not in the database: deleted outside groundtruth", k.kind, k.slug, k.v))
		}
	}
	sort.Strings(lines)
	for _, line := range lines {
		add("%s", line)
	}
}
