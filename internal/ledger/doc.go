// SPDX-License-Identifier: Apache-2.0

// Package ledger keeps groundtruth's tamper-evident log: a Merkle-tree
// transparency log, in the C2SP tlog-tiles layout written by Tessera's POSIX
// driver, of every preserved original and every change to a case record.
//
// # Layout
//
//	ledger/key            Ed25519 note signer key (mode 0600)
//	ledger/key.pub        the matching verifier key, safe to publish
//	ledger/secret         32 random bytes that key the commitments (mode 0600)
//	ledger/log/           the log: checkpoint, tile/, tile/entries/, .state/
//	ledger/checkpoints/N  every checkpoint the log signed, by tree size
//
// # Leaves
//
// A leaf is a small canonical JSON object (see [Leaf]): hashes, event kind
// and time, never personal data, names, places or URLs. What a leaf is about
// is a commitment, not an identifier: an original appears as
// HMAC-SHA256(k, sha256(original)) with k derived from the data directory's
// secret and the original's digest, and a record as HMAC commitments to its
// kind, slug and content. An outsider who holds an original cannot probe the
// log for it; the holder of a receipt, which carries k, can check it.
//
// # Checkpoints
//
// Tessera keeps only the latest checkpoint. The signer handed to Tessera
// archives every checkpoint it signs before Tessera publishes it, so the
// archive holds every checkpoint the log ever published.
package ledger
