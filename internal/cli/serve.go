// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"time"

	"groundtruth/internal/account"
	"groundtruth/internal/casefile"
	"groundtruth/internal/demo"
	"groundtruth/internal/jobs"
	"groundtruth/internal/store"
	"groundtruth/internal/web"
)

func runServe(e *env, args []string) error {
	fs := flags("serve")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	tiles := fs.String("tiles", "", "tile-server URL template for the map, e.g. https://tile.example.org/{z}/{x}/{y}.png (default: the offline basemap only)")
	var allow multiFlag
	fs.Var(&allow, "capture-allow", "address range captures may reach although it is private or local, e.g. 10.1.0.0/16 (repeatable; for intranets)")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	for _, a := range allow {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			return badInput("--capture-allow %q: give an address range such as 10.1.0.0/16", a)
		}
		e.captureConfig.Allow = append(e.captureConfig.Allow, p)
	}
	if _, err := web.TileOrigin(*tiles); err != nil {
		return badInput("--tiles: %v", err)
	}
	d, err := e.open()
	if err != nil {
		return err
	}
	defer d.Close()
	return e.serve(d, *addr, *tiles)
}

func (e *env) serve(d *data, addr, tiles string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return badInput("cannot listen on %s: %v: choose another --addr", addr, err)
	}
	// Long work (analysing uploads, captures) runs in the job queue, in
	// this process, stopped with the server.
	ctx, stop := context.WithCancel(e.ctx)
	defer stop()
	runner := jobs.New(d.st, e.jobHandlers(d, e.captureConfig), jobs.Options{})
	jobsDone := make(chan error, 1)
	go func() { jobsDone <- runner.Run(ctx) }()
	defer func() { stop(); <-jobsDone }()
	srv := &http.Server{
		Handler: web.New(web.Config{Store: d.st, Locker: d.lk, Derived: d.derived, Ledger: d.lg, Log: e.log, TileURL: tiles,
			Jobs: runner, Organisation: e.policy.Organisation}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	fmt.Fprintf(e.stdout, "serving %s on http://%s/\n", e.data, ln.Addr())
	e.log.InfoContext(e.ctx, "serving", slog.String("addr", ln.Addr().String()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-e.ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

// runDemo makes a fresh data directory (a new temporary one unless --data
// names an empty or missing directory), loads the built-in case and serves
// it.
func runDemo(e *env, args []string) error {
	fs := flags("demo")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	tiles := fs.String("tiles", "", "tile-server URL template for the map (default: the offline basemap only)")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	if _, err := web.TileOrigin(*tiles); err != nil {
		return badInput("--tiles: %v", err)
	}
	if !e.dataGiven {
		dir, err := os.MkdirTemp("", "groundtruth-demo-")
		if err != nil {
			return err
		}
		e.data = dir
	} else if entries, err := os.ReadDir(e.data); err == nil && len(entries) > 0 {
		return badInput("%s is not empty: the demo needs a fresh data directory; name a new one with --data", e.data)
	}
	if err := e.initData(); err != nil {
		return err
	}
	d, err := e.open()
	if err != nil {
		return err
	}
	defer d.Close()
	st, lk := d.st, d.lk
	f, err := casefile.Parse(demo.Name, demo.CaseFile())
	if err != nil {
		return err
	}
	sum, err := casefile.Load(e.ctx, st, lk, f, e.change("load the built-in case"))
	if err != nil {
		return err
	}
	if _, err := e.sync(d); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "loaded the built-in case: %d records\n", sum.Created+sum.Updated+sum.Unchanged)
	password, _, err := e.password(false)
	if err != nil {
		return err
	}
	hash, err := account.HashPassword(password)
	if err != nil {
		return err
	}
	if err := d.st.CreateUser(e.ctx, store.User{Name: "admin", Role: string(account.Admin), PasswordHash: hash}, e.user); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "sign in as admin with password %s (this demo's only account)\n", password)
	return e.serve(d, *addr, *tiles)
}
