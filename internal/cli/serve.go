// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
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
	tf := addTransportFlags(fs)
	if err := noArgs(fs, args); err != nil {
		return err
	}
	if err := tf.apply(e); err != nil {
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
	key, err := deviceKey(filepath.Join(e.data, deviceKeyFile))
	if err != nil {
		return err
	}
	wc := e.webConfig
	wc.Store, wc.Locker, wc.Derived, wc.Ledger, wc.Log, wc.TileURL, wc.Jobs, wc.DeviceKey = d.st, d.lk, d.derived, d.lg, e.log, tiles, runner, key
	wc.Organisation = e.policy.Organisation
	srv := web.NewServer(web.New(wc), e.serverLimits)
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
	tf := addTransportFlags(fs)
	if err := noArgs(fs, args); err != nil {
		return err
	}
	if err := tf.apply(e); err != nil {
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

// transportFlags are serve's settings for HTTPS, reverse proxies, timeouts
// and sign-in.
type transportFlags struct {
	secure      *bool
	proxies     multiFlag
	proxyHeader *string
	readTimeout *time.Duration
	checks      *int
}

func addTransportFlags(fs *flag.FlagSet) *transportFlags {
	tf := &transportFlags{}
	tf.secure = fs.Bool("secure-cookies", false, "mark cookies Secure and send Strict-Transport-Security: the server is reached only by HTTPS (behind a proxy that terminates TLS)")
	fs.Var(&tf.proxies, "trusted-proxy", "address range of a reverse proxy whose forwarding header gives the client's address and scheme, e.g. 10.0.0.5/32 (repeatable or comma-separated)")
	tf.proxyHeader = fs.String("proxy-header", web.HeaderXForwardedFor, "the header the trusted proxies append to: X-Forwarded-For (with X-Forwarded-Proto) or Forwarded")
	tf.readTimeout = fs.Duration("read-timeout", time.Minute, "time to read a request's headers and body (a signed-in user's upload is read as long as bytes keep coming)")
	tf.checks = fs.Int("password-checks", 0, "password checks run at once, each holding 64 MiB (default: half the processors, 1 to 4)")
	return tf
}

// apply checks the flags and stores them in e for serve.
func (tf *transportFlags) apply(e *env) error {
	for _, list := range tf.proxies {
		for p := range strings.SplitSeq(list, ",") {
			pr, err := netip.ParsePrefix(strings.TrimSpace(p))
			if err != nil {
				if a, aerr := netip.ParseAddr(strings.TrimSpace(p)); aerr == nil {
					pr = netip.PrefixFrom(a, a.BitLen())
				} else {
					return badInput("--trusted-proxy %q: give an address or range such as 10.0.0.5 or 10.0.0.0/24", p)
				}
			}
			e.webConfig.TrustedProxies = append(e.webConfig.TrustedProxies, pr.Masked())
		}
	}
	switch {
	case strings.EqualFold(*tf.proxyHeader, web.HeaderXForwardedFor):
		e.webConfig.ProxyHeader = web.HeaderXForwardedFor
	case strings.EqualFold(*tf.proxyHeader, web.HeaderForwarded):
		e.webConfig.ProxyHeader = web.HeaderForwarded
	default:
		return badInput("--proxy-header %q: give X-Forwarded-For or Forwarded", *tf.proxyHeader)
	}
	if *tf.readTimeout < time.Second {
		return badInput("--read-timeout %v: give at least 1s, e.g. 1m", *tf.readTimeout)
	}
	if *tf.checks < 0 || *tf.checks > 64 {
		return badInput("--password-checks %d: give 1 to 64, or 0 for the default", *tf.checks)
	}
	e.webConfig.SecureCookies, e.webConfig.PasswordChecks = *tf.secure, *tf.checks
	e.serverLimits = web.ServerLimits{ReadTimeout: *tf.readTimeout}
	return nil
}

// deviceKeyFile holds the key that signs the cookies by which sign-in
// knows a user's browsers (internal/web/throttle.go): kept across restarts
// so a restart does not make every browser unknown.
const deviceKeyFile = "device.key"

// deviceKey reads the key at file, creating it (32 random bytes, readable
// by its owner only) the first time.
func deviceKey(file string) ([]byte, error) {
	key, err := os.ReadFile(file)
	if err == nil && len(key) == 32 {
		return key, nil
	}
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read the device key %s: %v: delete it to make a new one (browsers are then unknown until they sign in again)", file, cmp.Or(err, errors.New("not 32 bytes")))
	}
	key = make([]byte, 32)
	rand.Read(key) // never fails (crypto/rand)
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create the device key %s: %w", file, err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("write the device key %s: %w", file, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("write the device key %s: %w", file, err)
	}
	return key, f.Close()
}
