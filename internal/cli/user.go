// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"groundtruth/internal/account"
	"groundtruth/internal/store"
)

// runUser handles "user add NAME --role R [--password-stdin]" and
// "user password NAME [--password-stdin]".
func runUser(e *env, args []string) error {
	if len(args) == 0 || (args[0] != "add" && args[0] != "password") {
		return badInput("usage: groundtruth user add NAME --role admin|editor|analyst|viewer [--password-stdin] | user password NAME [--password-stdin]")
	}
	fs := flags("user " + args[0])
	role := fs.String("role", "", "admin, editor, analyst or viewer")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input instead of generating one")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 || !account.ValidName(pos[0]) {
		return badInput("give one user name: 2 to 40 lower-case letters, digits, dots, hyphens or underscores, starting with a letter")
	}
	if args[0] == "add" && !account.Role(*role).Valid() {
		return badInput("--role %q: give admin, editor, analyst or viewer", *role)
	}
	password, shown, err := e.password(*fromStdin)
	if err != nil {
		return err
	}
	hash, err := account.HashPassword(password)
	if err != nil {
		return badInput("%v", err)
	}
	d, err := e.open()
	if err != nil {
		return err
	}
	defer d.Close()
	if args[0] == "add" {
		err = d.st.CreateUser(e.ctx, store.User{Name: pos[0], Role: *role, PasswordHash: hash}, e.user)
		if errors.Is(err, store.ErrConflict) {
			return badInput("user %s exists: use groundtruth user password %s to reset the password", pos[0], pos[0])
		}
	} else {
		err = d.st.SetPassword(e.ctx, pos[0], hash)
		if errors.Is(err, store.ErrNotFound) {
			return badInput("no user %s: add it with groundtruth user add", pos[0])
		}
	}
	if err != nil {
		return err
	}
	if shown {
		fmt.Fprintf(e.stdout, "user %s: one-time password %s (shown once; change it after signing in)\n", pos[0], password)
	} else {
		fmt.Fprintf(e.stdout, "user %s: password set\n", pos[0])
	}
	return nil
}

// password reads a password from standard input or generates one.
func (e *env) password(fromStdin bool) (password string, generated bool, err error) {
	if !fromStdin {
		secret, _, err := account.NewSecret("")
		return secret, true, err
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", false, badInput("--password-stdin: no password on standard input")
	}
	return strings.TrimRight(line, "\r\n"), false, nil
}
