// SPDX-License-Identifier: Apache-2.0

package ledger

import (
	"encoding/hex"
	"fmt"

	"groundtruth/internal/store"
)

// Accounts, API tokens and the access log are committed to like records:
// each subject is a keyed commitment to a user name, a token id or the
// access log as a whole, and Content commits to the row's state after the
// change, so the public sees that an account changed, never whose or how.
// The event is only create, update or backfill: whether a role was raised
// or an account disabled is inside the commitment.

func isAccountKind(kind string) bool {
	return kind == store.AccountKind || kind == store.TokenKind || kind == store.AccessKind
}

// accountKey returns the key of the commitments about one account, token
// or (ref "") the access log.
func accountKey(secret []byte, kind, ref string) []byte {
	return mac(secret, "groundtruth "+kind+" key v1", ref)
}

// accountSubject implements Subject for the account kinds.
func (l *Ledger) accountSubject(e store.Event) (string, bool) {
	if !isAccountKind(e.Kind) {
		return "", false
	}
	return hex.EncodeToString(mac(l.accountKeyOf(e.Kind, e.Ref), "subject", "")), true
}

func (l *Ledger) accountKeyOf(kind, ref string) []byte {
	if kind == store.AccessKind {
		ref = "" // one chain for the whole log
	}
	return accountKey(l.keys.secret, kind, ref)
}

// accountContent returns the commitment to the state of an account or a
// token at a version, or to an access-log entry (version: its seq).
func (l *Ledger) accountContent(kind, ref string, version int, state []byte) string {
	return hex.EncodeToString(mac(l.accountKeyOf(kind, ref), fmt.Sprintf("content %d", version), string(state)))
}

// accountLeaf fills in a leaf about an account, a token or the access log.
func (l *Ledger) accountLeaf(lf *Leaf, e store.Event) {
	lf.Type = map[string]string{store.AccountKind: TypeAccount, store.TokenKind: TypeToken, store.AccessKind: TypeAccess}[e.Kind]
	lf.Event, lf.Version = string(e.Op), e.Version
	lf.Content = l.accountContent(e.Kind, e.Ref, e.Version, e.Body)
	if e.Kind != store.AccessKind && e.Op != store.Backfilled {
		lf.Change = hex.EncodeToString(mac(l.accountKeyOf(e.Kind, e.Ref), fmt.Sprintf("change %d", e.Version), e.By+"\x00"+e.Reason))
	}
}
