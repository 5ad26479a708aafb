// SPDX-License-Identifier: Apache-2.0

package ledger

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/transparency-dev/formats/log"
	fnote "github.com/transparency-dev/formats/note"
	mproof "github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// WitnessServer is a small C2SP tlog-witness: it keeps, for each log it
// is told to witness, the largest checkpoint it has cosigned, and cosigns
// a new checkpoint only with a valid consistency proof from that one. It
// lets an organisation witness a partner's ledger (groundtruth witness
// serve) and lets the tests run a real witness over HTTP. Its directory
// holds:
//
//	key             its Ed25519 signing key (signed-note format), mode 0600
//	key.pub         its cosignature/v1 verifier key, to give to the log
//	state/HASH      the latest checkpoint cosigned for the log whose origin
//	                has SHA-256 HASH (hex)
//
// Invariant: a state file is replaced only by a checkpoint proved
// consistent with it, and is written (and synced) before the cosignature
// leaves the server.
type WitnessServer struct {
	dir    string
	signer note.Signer
	vkey   string
	logs   map[string]note.Verifier // by origin

	mu sync.Mutex // serialises the read-check-write of state files
}

// maxAddCheckpoint bounds an add-checkpoint request: 64 proof hashes and a
// checkpoint with a few signatures fit many times over.
const maxAddCheckpoint = 64 << 10

// NewWitnessServer opens (creating on first use) the witness in dir,
// named name, witnessing the logs whose verifier keys are given.
func NewWitnessServer(dir, name string, logKeys []note.Verifier) (*WitnessServer, error) {
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o700); err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	skey, err := os.ReadFile(filepath.Join(dir, keyFile))
	if errors.Is(err, fs.ErrNotExist) {
		s, v, err := note.GenerateKey(rand.Reader, name)
		if err != nil {
			return nil, fmt.Errorf("witness: generate key: %w", err)
		}
		cv, err := fnote.VKeyToCosignatureV1(v)
		if err != nil {
			return nil, fmt.Errorf("witness: key: %w", err)
		}
		if err := writeFileSync(filepath.Join(dir, pubFile), []byte(cv+"\n"), 0o644); err != nil {
			return nil, fmt.Errorf("witness: %w", err)
		}
		if err := writeFileSync(filepath.Join(dir, keyFile), []byte(s+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("witness: %w", err)
		}
		skey = []byte(s)
	} else if err != nil {
		return nil, fmt.Errorf("witness: read key: %w", err)
	}
	signer, err := fnote.NewSignerForCosignatureV1(strings.TrimSpace(string(skey)))
	if err != nil {
		return nil, fmt.Errorf("witness: key %s: %w", filepath.Join(dir, keyFile), err)
	}
	if signer.Name() != name {
		return nil, fmt.Errorf("witness: the key in %s is named %q, not %q", dir, signer.Name(), name)
	}
	vkey, err := os.ReadFile(filepath.Join(dir, pubFile))
	if err != nil {
		return nil, fmt.Errorf("witness: read verifier key: %w", err)
	}
	ws := &WitnessServer{dir: dir, signer: signer, vkey: strings.TrimSpace(string(vkey)), logs: map[string]note.Verifier{}}
	for _, v := range logKeys {
		ws.logs[v.Name()] = v
	}
	return ws, nil
}

// VerifierKey returns the witness's cosignature verifier key.
func (ws *WitnessServer) VerifierKey() string { return ws.vkey }

// ServeHTTP answers POST /add-checkpoint.
func (ws *WitnessServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/add-checkpoint" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAddCheckpoint+1))
	if err != nil {
		http.Error(w, "read request", http.StatusBadRequest)
		return
	}
	if len(body) > maxAddCheckpoint {
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return
	}
	code, answer := ws.addCheckpoint(body)
	switch code {
	case http.StatusOK:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	case http.StatusConflict:
		w.Header().Set("Content-Type", "text/x.tlog.size")
	default:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		answer += "\n"
	}
	w.WriteHeader(code)
	io.WriteString(w, answer)
}

// addCheckpoint handles one request body and returns the status and the
// answer: the cosignature line on 200, the witness's size on 409, a short
// reason otherwise.
func (ws *WitnessServer) addCheckpoint(body []byte) (int, string) {
	old, proof, raw, err := parseAddCheckpoint(body)
	if err != nil {
		return http.StatusBadRequest, err.Error()
	}
	origin, _, _ := strings.Cut(string(raw), "\n")
	v, ok := ws.logs[origin]
	if !ok {
		return http.StatusNotFound, "unknown log"
	}
	n, err := note.Open(raw, note.VerifierList(v))
	if err != nil {
		return http.StatusForbidden, "the checkpoint is not signed by the log's key"
	}
	var cp log.Checkpoint
	if _, err := cp.Unmarshal([]byte(n.Text)); err != nil {
		return http.StatusBadRequest, "malformed checkpoint"
	}

	ws.mu.Lock()
	defer ws.mu.Unlock()
	state := filepath.Join(ws.dir, "state", stateName(origin))
	var have log.Checkpoint
	if prev, err := os.ReadFile(state); err == nil {
		pn, err := note.Open(prev, note.VerifierList(v))
		if err != nil {
			return http.StatusInternalServerError, "stored state does not verify"
		}
		if _, err := have.Unmarshal([]byte(pn.Text)); err != nil {
			return http.StatusInternalServerError, "stored state is malformed"
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return http.StatusInternalServerError, "read state"
	}
	if old != have.Size {
		return http.StatusConflict, strconv.FormatUint(have.Size, 10) + "\n"
	}
	switch {
	case cp.Size < old:
		return http.StatusBadRequest, "the checkpoint is smaller than the old size"
	case cp.Size == old && have.Hash != nil:
		if !bytes.Equal(cp.Hash, have.Hash) {
			return http.StatusConflict, strconv.FormatUint(have.Size, 10) + "\n"
		}
	case old == 0:
		if len(proof) != 0 {
			return http.StatusUnprocessableEntity, "a proof from the empty tree must be empty"
		}
	default:
		if err := mproof.VerifyConsistency(rfc6962.DefaultHasher, old, cp.Size, proof, have.Hash, cp.Hash); err != nil {
			return http.StatusUnprocessableEntity, "the consistency proof does not verify"
		}
	}
	if cp.Size > have.Size || have.Hash == nil {
		if err := writeFileSync(state, raw, 0o600); err != nil {
			return http.StatusInternalServerError, "write state"
		}
		if err := syncDir(filepath.Dir(state)); err != nil {
			return http.StatusInternalServerError, "write state"
		}
	}
	signed, err := note.Sign(&note.Note{Text: n.Text}, ws.signer)
	if err != nil {
		return http.StatusInternalServerError, "sign"
	}
	return http.StatusOK, string(signed[len(n.Text)+1:])
}

func stateName(origin string) string {
	h := sha256.Sum256([]byte(origin))
	return hex.EncodeToString(h[:])
}

// parseAddCheckpoint splits a tlog-witness add-checkpoint body: "old N",
// up to 63 base64 proof hashes one a line, a blank line, the checkpoint.
func parseAddCheckpoint(body []byte) (old uint64, proof [][]byte, cp []byte, err error) {
	head, cp, ok := bytes.Cut(body, []byte("\n\n"))
	if !ok {
		return 0, nil, nil, errors.New("no blank line before the checkpoint")
	}
	lines := strings.Split(string(head), "\n")
	num, ok := strings.CutPrefix(lines[0], "old ")
	if !ok {
		return 0, nil, nil, errors.New("the first line is not \"old SIZE\"")
	}
	if num == "" || num[0] == '+' || (len(num) > 1 && num[0] == '0') {
		return 0, nil, nil, errors.New("bad old size")
	}
	if old, err = strconv.ParseUint(num, 10, 64); err != nil {
		return 0, nil, nil, errors.New("bad old size")
	}
	if len(lines)-1 > 63 {
		return 0, nil, nil, errors.New("more than 63 proof hashes")
	}
	for _, l := range lines[1:] {
		h, err := base64.StdEncoding.Strict().DecodeString(l)
		if err != nil || len(h) != sha256.Size {
			return 0, nil, nil, errors.New("a proof line is not a base64 SHA-256 hash")
		}
		proof = append(proof, h)
	}
	return old, proof, cp, nil
}
