// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"groundtruth/internal/account"
	"groundtruth/internal/store"
)

const userUsage = "usage: groundtruth user add NAME --role R [--password-stdin] | password NAME [--password-stdin] [--reason TEXT] | " +
	"list [--json] | role NAME ROLE --reason TEXT | disable NAME --reason TEXT | enable NAME --reason TEXT | " +
	"tokens NAME [--json] | revoke NAME TOKEN-ID|--all --reason TEXT"

// runUser manages accounts. Every change is written with its ledger leaf
// and an access-log entry naming who (--as), what, whom and why, and is
// acknowledged only once the ledger holds it.
func runUser(e *env, args []string) error {
	if len(args) == 0 {
		return badInput("%s", userUsage)
	}
	switch args[0] {
	case "add", "password":
		return runUserPassword(e, args)
	case "list":
		return runUserList(e, args[1:])
	case "role", "disable", "enable", "revoke":
		return runUserChange(e, args)
	case "tokens":
		return runUserTokens(e, args[1:])
	}
	return badInput("%s", userUsage)
}

func validName(name string) error {
	if !account.ValidName(name) {
		return badInput("user name %q: 2 to 40 lower-case letters, digits, dots, hyphens or underscores, starting with a letter", name)
	}
	return nil
}

// runUserPassword handles "user add" and "user password".
func runUserPassword(e *env, args []string) error {
	fs := flags("user " + args[0])
	role := fs.String("role", "", "admin, editor, analyst or viewer")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input instead of generating one")
	reason := fs.String("reason", "password reset", "why the password is changed")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return badInput("give one user name: 2 to 40 lower-case letters, digits, dots, hyphens or underscores, starting with a letter")
	}
	if err := validName(pos[0]); err != nil {
		return err
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
		err = d.st.SetPassword(e.ctx, pos[0], hash, e.change(*reason))
		if errors.Is(err, store.ErrNotFound) {
			return badInput("no user %s: add it with groundtruth user add", pos[0])
		}
	}
	if err != nil {
		return err
	}
	if _, err := e.sync(d); err != nil {
		return err
	}
	if shown {
		fmt.Fprintf(e.stdout, "user %s: one-time password %s (shown once; change it after signing in)\n", pos[0], password)
	} else {
		fmt.Fprintf(e.stdout, "user %s: password set\n", pos[0])
	}
	if args[0] == "password" {
		fmt.Fprintf(e.stdout, "user %s: every session and API token ended\n", pos[0])
	}
	return nil
}

// runUserChange handles "user role|disable|enable|revoke".
func runUserChange(e *env, args []string) error {
	verb := args[0]
	fs := flags("user " + verb)
	reason := fs.String("reason", "", "why (required; written to the access log)")
	all := fs.Bool("all", false, "revoke every live API token of the user")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	want := map[string]int{"role": 2, "disable": 1, "enable": 1, "revoke": 2}[verb]
	if verb == "revoke" && *all {
		want = 1
	}
	switch {
	case verb == "revoke" && len(pos) == 1 && !*all:
		return badInput("user revoke %s: give TOKEN-ID or --all (list tokens with groundtruth user tokens %s)", pos[0], pos[0])
	case verb == "revoke" && len(pos) == 2 && *all:
		return badInput("user revoke: give TOKEN-ID or --all, not both")
	case len(pos) != want:
		return badInput("%s", userUsage)
	}
	if err := validName(pos[0]); err != nil {
		return err
	}
	if verb == "role" && !account.Role(pos[1]).Valid() {
		return badInput("role %q: give admin, editor, analyst or viewer", pos[1])
	}
	if strings.TrimSpace(*reason) == "" {
		return badInput("user %s %s: give --reason TEXT: why, for the access log", verb, pos[0])
	}
	d, err := e.open()
	if err != nil {
		return err
	}
	defer d.Close()
	name, c := pos[0], e.change(*reason)
	var done string
	switch verb {
	case "role":
		err = d.st.SetRole(e.ctx, name, pos[1], c)
		done = "role " + pos[1] + ", from the next request"
	case "disable":
		err = d.st.DisableUser(e.ctx, name, c)
		done = "disabled; every session and API token ended"
	case "enable":
		err = d.st.EnableUser(e.ctx, name, c)
		done = "enabled; sign in again to get a session"
	case "revoke":
		id := ""
		if !*all {
			id = pos[1]
		}
		var n int
		n, err = d.st.RevokeTokens(e.ctx, name, id, c)
		done = fmt.Sprintf("%d API token(s) revoked", n)
		if errors.Is(err, store.ErrNotFound) && id != "" {
			if _, uerr := d.st.GetUser(e.ctx, name); uerr == nil {
				return badInput("user %s has no live token %s: list tokens with groundtruth user tokens %s", name, id, name)
			}
		}
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return badInput("no user %s: list users with groundtruth user list", name)
	case errors.Is(err, store.ErrLastAdmin):
		return badInput("user %s is the last admin with a live account: make another admin first (groundtruth user role NAME admin --reason ...)", name)
	case errors.Is(err, store.ErrConflict):
		return badInput("user %s: nothing to change: %v", name, unwrapStore(err))
	case err != nil:
		return err
	}
	if _, err := e.sync(d); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "user %s: %s\n", name, done)
	return nil
}

// unwrapStore returns the store's message without its sentinel's text.
func unwrapStore(err error) string {
	msg := strings.TrimPrefix(err.Error(), "store: ")
	msg, _, _ = strings.Cut(msg, ": store:")
	return msg
}

func runUserList(e *env, args []string) error {
	fs := flags("user list")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	d, err := e.open()
	if err != nil {
		return err
	}
	defer d.Close()
	users, err := d.st.Users(e.ctx, e.now())
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(map[string]any{"users": users})
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tSTATE\tSESSIONS\tTOKENS")
	for _, u := range users {
		state := "live"
		if u.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\n", u.Name, u.Role, state, u.Sessions, u.Tokens)
	}
	return tw.Flush()
}

func runUserTokens(e *env, args []string) error {
	fs := flags("user tokens")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return badInput("%s", userUsage)
	}
	if err := validName(pos[0]); err != nil {
		return err
	}
	d, err := e.open()
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := d.st.GetUser(e.ctx, pos[0]); errors.Is(err, store.ErrNotFound) {
		return badInput("no user %s: list users with groundtruth user list", pos[0])
	} else if err != nil {
		return err
	}
	tokens, err := d.st.Tokens(e.ctx, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(map[string]any{"tokens": tokens})
	}
	if len(tokens) == 0 {
		fmt.Fprintf(e.stdout, "user %s has no API tokens\n", pos[0])
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSCOPE\tSTATE\tCREATED\tLABEL")
	for _, t := range tokens {
		state := "live"
		if t.Revoked {
			state = "revoked"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Scope, state, t.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"), t.Label)
	}
	return tw.Flush()
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
