// SPDX-License-Identifier: Apache-2.0

package ledger

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/transparency-dev/merkle/rfc6962"
)

// LeafVersion is the version of the leaf format written by this build.
const LeafVersion = 1

// Leaf types.
const (
	TypeItem   = "item"   // an original entered the locker
	TypeRecord = "record" // a case record was created, changed or retired
	// TypeAccount: an account was created or changed (role, state,
	// password); Content commits to the account's state after the change.
	TypeAccount = "account"
	// TypeToken: an API token was created or revoked; Content commits to
	// its owner, scope, hash and state.
	TypeToken = "token"
	// TypeAccess: an entry was written to the access log (a sensitive
	// view, or an account change); every such leaf has one subject, so
	// the access log is one chain.
	TypeAccess = "access"
)

// Leaf is one entry of the log, serialised as compact JSON with the fields
// in this order. It never holds personal data: Subject and Content are
// keyed commitments (see the package documentation).
//
//	{"v":1,"type":"item","event":"ingest","subject":"<hex>","content":"<hex>","time":"2026-11-25T18:00:00Z"}
//	{"v":1,"type":"record","event":"update","subject":"<hex>","content":"<hex>","change":"<hex>","version":2,"prev":"<hex>","time":"…"}
//	{"v":1,"type":"account","event":"update","subject":"<hex>","content":"<hex>","change":"<hex>","version":3,"prev":"<hex>","time":"…"}
//	{"v":1,"type":"access","event":"create","subject":"<hex>","content":"<hex>","version":41,"prev":"<hex>","time":"…"}
type Leaf struct {
	V       int    `json:"v"`
	Type    string `json:"type"`
	Event   string `json:"event"`   // ingest; create, update, retire; backfill
	Subject string `json:"subject"` // commitment to the original or the record
	// Content commits to what the subject holds: a record version's body,
	// or an original's size and media type (never in the clear: an exact
	// size would let anyone holding a candidate file probe the log).
	Content string `json:"content,omitempty"`
	// Change commits to who made a record change and why.
	Change  string `json:"change,omitempty"`
	Version int    `json:"version,omitempty"` // record: version number
	// Prev is the hash of the previous leaf about the same subject, so that
	// each subject's history is a chain whatever order the log gives leaves
	// written in one batch.
	Prev string `json:"prev,omitempty"`
	Time string `json:"time"` // RFC 3339 UTC, as claimed by the writer
}

// Marshal returns the leaf's canonical bytes.
func (l Leaf) Marshal() []byte {
	b, err := json.Marshal(l)
	if err != nil {
		panic(err) // a struct of strings and numbers always encodes
	}
	return b
}

// ParseLeaf reads a leaf written by Marshal and refuses anything else:
// unknown fields, another version, or bytes that are not canonical.
func ParseLeaf(b []byte) (Leaf, error) {
	var l Leaf
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return Leaf{}, fmt.Errorf("ledger: leaf is not valid: %w", err)
	}
	if l.V != LeafVersion {
		return Leaf{}, fmt.Errorf("ledger: leaf version %d is not known", l.V)
	}
	if !bytes.Equal(l.Marshal(), b) {
		return Leaf{}, fmt.Errorf("ledger: leaf is not in canonical form")
	}
	return l, nil
}

// LeafHash returns the RFC 6962 hash of a leaf's bytes, in hex: the value a
// log entry is identified by and a leaf's successor names in Prev.
func LeafHash(leaf []byte) string {
	return hex.EncodeToString(rfc6962.DefaultHasher.HashLeaf(leaf))
}

// ItemKey returns the key that opens the commitment to one original. A
// receipt carries it, so that the holder of the file can check the leaf;
// it tells nothing about any other item.
func ItemKey(secret []byte, sha256Hex string) []byte {
	return mac(secret, "groundtruth item key v1", sha256Hex)
}

// ItemSubject returns the commitment to an original under its item key.
func ItemSubject(itemKey []byte, sha256Hex string) (string, error) {
	raw, err := hex.DecodeString(sha256Hex)
	if err != nil || len(raw) != sha256.Size {
		return "", fmt.Errorf("ledger: %q is not a SHA-256 digest", sha256Hex)
	}
	m := hmac.New(sha256.New, itemKey)
	m.Write(raw)
	return hex.EncodeToString(m.Sum(nil)), nil
}

// ItemContent returns the commitment to an original's size and media type.
func ItemContent(itemKey []byte, size int64, mediaType string) string {
	return hex.EncodeToString(mac(itemKey, "content", fmt.Sprintf("%d %s", size, mediaType)))
}

// RecordChange returns the commitment to who made a record change and why.
func RecordChange(recordKey []byte, version int, by, reason string) string {
	return hex.EncodeToString(mac(recordKey, fmt.Sprintf("change %d", version), by+"\x00"+reason))
}

// RecordKey returns the key of one record's commitments.
func RecordKey(secret []byte, kind, slug string) []byte {
	return mac(secret, "groundtruth record key v1", kind+"\x00"+slug)
}

// RecordSubject returns the commitment that names a record in the log.
func RecordSubject(recordKey []byte) string {
	return hex.EncodeToString(mac(recordKey, "subject", ""))
}

// RecordContent returns the commitment to one version of a record.
func RecordContent(recordKey []byte, version int, body []byte) string {
	return hex.EncodeToString(mac(recordKey, fmt.Sprintf("content %d", version), string(body)))
}

func mac(key []byte, label, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	m.Write([]byte{0})
	m.Write([]byte(data))
	return m.Sum(nil)
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		t = time.Now()
	}
	return t.UTC().Format(time.RFC3339Nano)
}
