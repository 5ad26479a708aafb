// SPDX-License-Identifier: Apache-2.0

package ledger

import (
	"fmt"

	"groundtruth/internal/store"
)

// Subject implements store.Journal.
func (l *Ledger) Subject(e store.Event) string {
	if e.Kind == store.BlobKind {
		s, err := ItemSubject(ItemKey(l.keys.secret, e.Ref), e.Ref)
		if err != nil {
			return "invalid"
		}
		return s
	}
	if s, ok := l.accountSubject(e); ok {
		return s
	}
	return RecordSubject(RecordKey(l.keys.secret, e.Kind, e.Ref))
}

// Leaf implements store.Journal.
func (l *Ledger) Leaf(e store.Event) ([]byte, string, error) {
	lf := Leaf{V: LeafVersion, Subject: l.Subject(e), Prev: e.Prev, Time: formatTime(e.At)}
	switch {
	case isAccountKind(e.Kind):
		l.accountLeaf(&lf, e)
	case e.Kind == store.BlobKind:
		if e.Blob == nil || lf.Subject == "invalid" {
			return nil, "", fmt.Errorf("ledger: original %q cannot be logged", e.Ref)
		}
		lf.Type, lf.Event = TypeItem, "ingest"
		lf.Content = ItemContent(ItemKey(l.keys.secret, e.Ref), e.Blob.Size, e.Blob.MediaType)
		if e.Op == store.Backfilled {
			lf.Event = string(store.Backfilled)
		}
	default:
		lf.Type, lf.Event, lf.Version = TypeRecord, string(e.Op), e.Version
		k := RecordKey(l.keys.secret, e.Kind, e.Ref)
		lf.Content = RecordContent(k, e.Version, e.Body)
		if e.Op != store.Backfilled {
			lf.Change = RecordChange(k, e.Version, e.By, e.Reason)
		}
	}
	b := lf.Marshal()
	return b, LeafHash(b), nil
}

// ItemKeyOf returns the key that opens the commitment to an original.
func (l *Ledger) ItemKeyOf(sha256Hex string) []byte { return ItemKey(l.keys.secret, sha256Hex) }

// recordChangeOf returns the commitment a leaf holds for who and why.
func (l *Ledger) recordChangeOf(kind, slug string, version int, by, reason string) string {
	return RecordChange(RecordKey(l.keys.secret, kind, slug), version, by, reason)
}

// RecordContentOf returns the commitment a leaf holds for a record version.
func (l *Ledger) RecordContentOf(kind, slug string, version int, body []byte) string {
	return RecordContent(RecordKey(l.keys.secret, kind, slug), version, body)
}
