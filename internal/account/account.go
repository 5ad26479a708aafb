// SPDX-License-Identifier: Apache-2.0

// Package account holds groundtruth's users, roles and what each role may
// do, and the password and token hashing they rest on. It holds no SQL and
// no HTTP.
//
// # Roles
//
// Roles are ordered: each holds every permission of the roles below it.
//
//	public   (not signed in) published incidents only, victims as initials,
//	         no personal data, graphic media blurred with no reveal
//	viewer   every incident; may reveal graphic media (each view is logged)
//	analyst  may record assessments, claims and casualties, add evidence,
//	         and change the findings they recorded while unpublished
//	editor   may create and edit incidents and every other record
//	admin    may manage users
package account

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Role is a user's role.
type Role string

// Roles, from least to most trusted.
const (
	Public  Role = "public"
	Viewer  Role = "viewer"
	Analyst Role = "analyst"
	Editor  Role = "editor"
	Admin   Role = "admin"
)

// Roles lists the roles in order of trust.
var Roles = []Role{Public, Viewer, Analyst, Editor, Admin}

// Valid reports whether r is a role a user can have (public is the absence
// of a user).
func (r Role) Valid() bool { return r != Public && slices.Contains(Roles, r) }

// AtLeast reports whether r holds every permission of min.
func (r Role) AtLeast(min Role) bool {
	return slices.Index(Roles, r) >= slices.Index(Roles, min) && slices.Contains(Roles, r)
}

// Permission is something a route needs.
type Permission string

// Permissions, each granted from a minimum role.
const (
	ReadPublished  Permission = "read_published"  // published incidents, redacted
	ReadAll        Permission = "read_all"        // every incident, and originals not marked personal data
	RevealGraphic  Permission = "reveal_graphic"  // see graphic media (logged)
	ReadPersonal   Permission = "read_personal"   // originals marked personal data, victims' names
	WriteFindings  Permission = "write_findings"  // assessments, claims, casualties, evidence
	WriteRecords   Permission = "write_records"   // incidents and every other record
	ManageAccounts Permission = "manage_accounts" // users, and the access log
	Self           Permission = "self"            // signed in: own tokens, sign out
)

// minimum is the table behind Allows: the least role that holds each
// permission.
var minimum = map[Permission]Role{
	ReadPublished: Public, ReadAll: Viewer, RevealGraphic: Viewer, Self: Viewer,
	WriteFindings: Analyst, ReadPersonal: Editor, WriteRecords: Editor, ManageAccounts: Admin,
}

// Allows reports whether role r holds permission p.
func Allows(r Role, p Permission) bool {
	min, ok := minimum[p]
	return ok && r.AtLeast(min)
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9._-]{1,39}$`)

// ValidName reports whether s can be a user name: 2 to 40 characters,
// lower-case letters, digits, dots, hyphens and underscores, starting with
// a letter.
func ValidName(s string) bool { return nameRE.MatchString(s) }

// argon2id parameters (RFC 9106's second recommended option, with a
// modest memory cost for a laptop).
const (
	argonTime    = 3
	argonMemory  = 64 * 1024 // KiB
	argonThreads = 2
	argonKeyLen  = 32
)

// HashMemory is the memory, in bytes, one HashPassword or CheckPassword
// of a hash it made holds while it runs.
const HashMemory = argonMemory * 1024

// HashPassword returns an argon2id hash in the PHC string format.
func HashPassword(password string) (string, error) {
	if len(password) < 12 {
		return "", errors.New("a password needs at least 12 characters")
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches a hash from HashPassword,
// in time independent of where they differ.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 1<<21 || t > 16 || p == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// NewSecret returns a random secret with a prefix naming its use
// ("gts_" sessions, "gtt_" API tokens, "" passwords), and the hash under
// which it is stored. Secrets are shown once and never stored.
func NewSecret(prefix string) (secret, hash string, err error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	secret = prefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, HashSecret(secret), nil
}

// HashSecret returns the stored form of a session or token secret. These
// secrets are 192 random bits, so a fast hash suffices.
func HashSecret(secret string) string {
	s := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(s[:])
}
