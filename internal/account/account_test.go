// SPDX-License-Identifier: Apache-2.0

package account

import (
	"strings"
	"testing"
)

func TestPasswords(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Errorf("hash %q is not an argon2id PHC string", h)
	}
	if !CheckPassword(h, "correct horse battery") {
		t.Error("the right password is refused")
	}
	for _, bad := range []string{"correct horse batterx", "", "correct horse battery "} {
		if CheckPassword(h, bad) {
			t.Errorf("CheckPassword accepted %q", bad)
		}
	}
	h2, _ := HashPassword("correct horse battery")
	if h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	if _, err := HashPassword("short"); err == nil {
		t.Error("a short password was accepted")
	}
	for _, garbage := range []string{"", "$argon2id$", "$argon2id$v=19$m=1,t=1,p=0$AA$AA", "$bcrypt$x"} {
		if CheckPassword(garbage, "x") {
			t.Errorf("CheckPassword accepted hash %q", garbage)
		}
	}
}

func TestRoles(t *testing.T) {
	tests := []struct {
		role Role
		perm Permission
		want bool
	}{
		{Public, ReadPublished, true}, {Public, ReadAll, false}, {Public, RevealGraphic, false}, {Public, Self, false},
		{Viewer, ReadAll, true}, {Viewer, RevealGraphic, true}, {Viewer, WriteFindings, false}, {Viewer, ReadPersonal, false},
		{Analyst, WriteFindings, true}, {Analyst, WriteRecords, false},
		{Editor, WriteRecords, true}, {Editor, ReadPersonal, true}, {Editor, ManageAccounts, false},
		{Admin, ManageAccounts, true}, {Role("root"), ReadPublished, false}, {Admin, Permission("x"), false},
	}
	for _, tt := range tests {
		if got := Allows(tt.role, tt.perm); got != tt.want {
			t.Errorf("Allows(%s, %s) = %v, want %v", tt.role, tt.perm, got, tt.want)
		}
	}
	if Public.Valid() || !Admin.Valid() || Role("root").Valid() {
		t.Error("Valid is wrong")
	}
}

func TestSecrets(t *testing.T) {
	s, h, err := NewSecret("gtt_")
	if err != nil || !strings.HasPrefix(s, "gtt_") || HashSecret(s) != h || strings.Contains(h, s) {
		t.Errorf("NewSecret = %q %q %v", s, h, err)
	}
	if !ValidName("ana.k") || ValidName("Ana") || ValidName("a") || ValidName("ana k") {
		t.Error("ValidName is wrong")
	}
}
