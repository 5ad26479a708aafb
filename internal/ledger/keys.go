// SPDX-License-Identifier: Apache-2.0

package ledger

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Files and directories inside the ledger directory.
const (
	keyFile        = "key"
	pubFile        = "key.pub"
	secretFile     = "secret"
	logDir         = "log"
	checkpointsDir = "checkpoints"
	syncLock       = "sync.lock"
)

// ErrNoLedger is returned by Open for a directory that holds no ledger.
var ErrNoLedger = errors.New("ledger: no ledger here")

// Init creates a ledger in dir: a new signing key named origin, its
// verifier key and a new secret. It refuses to overwrite an existing key.
func Init(dir, origin string) error {
	if err := os.MkdirAll(filepath.Join(dir, checkpointsDir), 0o750); err != nil {
		return fmt.Errorf("ledger: init: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, logDir), 0o750); err != nil {
		return fmt.Errorf("ledger: init: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, keyFile)); err == nil {
		return nil // already initialised: keep the key
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return fmt.Errorf("ledger: generate key: %w", err)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return fmt.Errorf("ledger: generate secret: %w", err)
	}
	for _, f := range []struct {
		name string
		data string
		mode os.FileMode
	}{
		{secretFile, hex.EncodeToString(secret) + "\n", 0o600},
		{pubFile, vkey + "\n", 0o644},
		{keyFile, skey + "\n", 0o600}, // last: its presence means the ledger is whole
	} {
		if err := writeFileSync(filepath.Join(dir, f.name), []byte(f.data), f.mode); err != nil {
			return fmt.Errorf("ledger: init: %w", err)
		}
	}
	return syncDir(dir)
}

// keys holds what Open reads from the ledger directory.
type keys struct {
	signer   note.Signer
	verifier note.Verifier
	vkey     string
	secret   []byte
}

func readKeys(dir string) (*keys, error) {
	skey, err := os.ReadFile(filepath.Join(dir, keyFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoLedger, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: read key: %w", err)
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		return nil, fmt.Errorf("ledger: key %s: %w", filepath.Join(dir, keyFile), err)
	}
	vkey, err := os.ReadFile(filepath.Join(dir, pubFile))
	if err != nil {
		return nil, fmt.Errorf("ledger: read verifier key: %w", err)
	}
	verifier, err := note.NewVerifier(strings.TrimSpace(string(vkey)))
	if err != nil {
		return nil, fmt.Errorf("ledger: verifier key %s: %w: restore it from a backup, or print it again from the private key", filepath.Join(dir, pubFile), err)
	}
	if verifier.Name() != signer.Name() || verifier.KeyHash() != signer.KeyHash() {
		return nil, fmt.Errorf("ledger: %s does not match %s", pubFile, keyFile)
	}
	sec, err := os.ReadFile(filepath.Join(dir, secretFile))
	if err != nil {
		return nil, fmt.Errorf("ledger: read secret: %w", err)
	}
	secret, err := hex.DecodeString(strings.TrimSpace(string(sec)))
	if err != nil || len(secret) != 32 {
		return nil, fmt.Errorf("ledger: %s is not 32 bytes of hex", filepath.Join(dir, secretFile))
	}
	return &keys{signer: signer, verifier: verifier, vkey: strings.TrimSpace(string(vkey)), secret: secret}, nil
}

// ParseVerifierKey reads a verifier key given as the key itself or as the
// name of a file that holds it.
func ParseVerifierKey(s string) (note.Verifier, error) {
	text := strings.TrimSpace(s)
	if v, err := note.NewVerifier(text); err == nil {
		return v, nil
	}
	if f, err := os.Open(s); err == nil {
		b, _ := io.ReadAll(io.LimitReader(f, 4096)) // a key is one short line
		f.Close()
		text = strings.TrimSpace(string(b))
	}
	v, err := note.NewVerifier(text)
	if err != nil {
		return nil, fmt.Errorf("ledger: %q is neither a verifier key nor a file holding one (groundtruth ledger key prints it): %w", s, err)
	}
	return v, nil
}

func writeFileSync(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
