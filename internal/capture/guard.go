// SPDX-License-Identifier: Apache-2.0

package capture

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// ErrBlocked is wrapped by every refusal of the address guard, so callers
// can tell a policy refusal from a network failure with errors.Is.
var ErrBlocked = errors.New("address blocked")

// BlockedError reports that a fetch was refused because the host resolved
// to an address in a blocked range. Its message names the host only: what
// a name resolves to inside the operator's network (10.x, a metadata
// service) is itself reconnaissance, and capture errors reach analysts
// through the job queue and the web. Addr, Reason and Range stay in the
// value for programs; they are never put into the text.
type BlockedError struct {
	URL    string       // the URL being fetched (one hop of a redirect chain)
	Host   string       // the host name (or address literal) of URL
	Addr   netip.Addr   // the resolved address that was refused
	Reason string       // "loopback", "private", "link-local (cloud metadata)", …
	Range  netip.Prefix // the blocked range it fell in
}

// Error says that the host is refused and how to allow it, without the
// address, its range or why it is special.
func (e *BlockedError) Error() string {
	return fmt.Sprintf("capture: refused %s: %s resolves to a non-public address; allow it with --allow if intended",
		e.URL, e.Host)
}

// Unwrap makes errors.Is(err, ErrBlocked) true.
func (e *BlockedError) Unwrap() error { return ErrBlocked }

// blockedRange is one address range that a capture may not reach by default.
type blockedRange struct {
	prefix netip.Prefix
	reason string
}

// blockedRanges lists special-purpose ranges (IANA IPv4/IPv6 special-purpose
// registries) that must never be fetched on behalf of a URL typed by a user:
// they reach the capture host itself, its network or the cloud metadata
// service. IPv4-mapped IPv6 addresses are unmapped before matching; NAT64 and
// 6to4 addresses are checked again by their embedded IPv4 address.
var blockedRanges = func() []blockedRange {
	table := []struct{ p, reason string }{
		{"169.254.169.254/32", "link-local, cloud metadata service"},
		{"0.0.0.0/8", "unspecified, this network"},
		{"10.0.0.0/8", "private"},
		{"100.64.0.0/10", "carrier-grade NAT, shared address space"},
		{"127.0.0.0/8", "loopback"},
		{"169.254.0.0/16", "link-local"},
		{"172.16.0.0/12", "private"},
		{"192.0.0.0/24", "IETF protocol assignments"},
		{"192.0.2.0/24", "documentation"},
		{"192.88.99.0/24", "6to4 relay anycast"},
		{"192.168.0.0/16", "private"},
		{"198.18.0.0/15", "benchmarking"},
		{"198.51.100.0/24", "documentation"},
		{"203.0.113.0/24", "documentation"},
		{"224.0.0.0/4", "multicast"},
		{"240.0.0.0/4", "reserved"},
		{"::/128", "unspecified"},
		{"::1/128", "loopback"},
		{"::/96", "IPv4-compatible (deprecated)"},
		{"100::/64", "discard-only"},
		{"2001:db8::/32", "documentation"},
		{"fc00::/7", "private, unique local"},
		{"fe80::/10", "link-local"},
		{"fec0::/10", "site-local (deprecated)"},
		{"ff00::/8", "multicast"},
	}
	out := make([]blockedRange, len(table))
	for i, e := range table {
		out[i] = blockedRange{netip.MustParsePrefix(e.p), e.reason}
	}
	return out
}()

var (
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour   = netip.MustParsePrefix("2002::/16")
)

// Resolver looks up the addresses of a host name. *net.Resolver satisfies
// it; tests inject a fixed table.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// guard decides which addresses a capture may connect to and dials only
// addresses it has checked. Because the check runs inside the dialer, every
// redirect hop and every browser subresource is covered, and a DNS answer
// that changes between check and connect (rebinding) cannot slip through:
// the connection goes to the exact address that was checked.
type guard struct {
	allow    []netip.Prefix
	resolver Resolver
	timeout  time.Duration // per connection attempt
}

// classify returns the blocked range containing a and why, or ok=true if a
// may be contacted (public, or inside an allowed prefix).
func (g *guard) classify(a netip.Addr) (blockedRange, bool) {
	a = a.Unmap().WithZone("")
	for _, p := range g.allow {
		if p.Contains(a) {
			return blockedRange{}, true
		}
	}
	for _, r := range blockedRanges {
		if r.prefix.Contains(a) {
			return r, false
		}
	}
	if a.Is6() && (nat64Prefix.Contains(a) || sixToFour.Contains(a)) {
		b := a.As16()
		var v4 [4]byte
		if nat64Prefix.Contains(a) {
			copy(v4[:], b[12:16])
		} else {
			copy(v4[:], b[2:6])
		}
		if r, ok := g.classify(netip.AddrFrom4(v4)); !ok {
			r.reason += ", embedded in " + a.String()
			r.prefix = netip.PrefixFrom(a, 128)
			return r, false
		}
	}
	return blockedRange{}, true
}

// resolve returns the addresses of host, refusing the whole name if any of
// them is blocked: a name that mixes public and private answers is how DNS
// rebinding attacks start, and refusing it is simpler to reason about than
// picking the "good" answer.
func (g *guard) resolve(ctx context.Context, host, rawURL string) ([]netip.Addr, error) {
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		addrs, err = g.resolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, &netError{fmt.Sprintf("capture: resolve %s for %s: %s", host, rawURL, lookupCause(err)), err}
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("capture: resolve %s for %s: no addresses", host, rawURL)
		}
	}
	for _, a := range addrs {
		if r, ok := g.classify(a); !ok {
			return nil, &BlockedError{URL: rawURL, Host: host, Addr: a.Unmap().WithZone(""), Reason: r.reason, Range: r.prefix}
		}
	}
	return addrs, nil
}

// dial connects to hostport on behalf of rawURL, trying each checked
// address in turn. The dialer's Control hook checks the socket address once
// more just before connect, as a second line of defence should a future
// change pass an unchecked address here.
func (g *guard) dial(ctx context.Context, hostport, rawURL string) (net.Conn, netip.Addr, error) {
	host, portStr, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, netip.Addr{}, fmt.Errorf("capture: bad address %q for %s: %w", hostport, rawURL, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, netip.Addr{}, fmt.Errorf("capture: bad port %q for %s", portStr, rawURL)
	}
	addrs, err := g.resolve(ctx, host, rawURL)
	if err != nil {
		return nil, netip.Addr{}, err
	}
	d := net.Dialer{
		Timeout: g.timeout,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("capture: unexpected socket address %q", address)
			}
			if r, ok := g.classify(ap.Addr()); !ok {
				return &BlockedError{URL: rawURL, Host: host, Addr: ap.Addr().Unmap(), Reason: r.reason, Range: r.prefix}
			}
			return nil
		},
	}
	var errs []error
	for _, a := range addrs {
		conn, err := d.DialContext(ctx, "tcp", netip.AddrPortFrom(a, uint16(port)).String())
		if err == nil {
			return conn, a.Unmap(), nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, netip.Addr{}, &netError{fmt.Sprintf("capture: connect to %s for %s: %s", hostport, rawURL, dialCause(ctx, errs)), errors.Join(errs...)}
}

// netError is a resolution or connection failure whose message leaves out
// the addresses involved (the resolved address, the DNS server's): the
// operator's network layout is not for the people reading capture
// results. The full error stays reachable with errors.Unwrap for tests
// and for errors.Is (context deadlines, ECONNREFUSED).
type netError struct {
	msg string
	err error
}

func (e *netError) Error() string { return e.msg }
func (e *netError) Unwrap() error { return e.err }

// lookupCause is a DNS failure in words, without the resolver's address
// that *net.DNSError prints.
func lookupCause(err error) string {
	var de *net.DNSError
	switch {
	case errors.As(err, &de) && de.IsNotFound:
		return "no such host"
	case errors.As(err, &de) && de.IsTimeout:
		return "DNS lookup timed out"
	case errors.As(err, &de):
		return "DNS lookup failed: " + de.Err
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "DNS lookup interrupted: " + err.Error()
	default:
		return "DNS lookup failed"
	}
}

// dialCause is why the connection attempts failed, without the addresses
// that *net.OpError prints.
func dialCause(ctx context.Context, errs []error) string {
	err := errors.Join(errs...)
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case ctx.Err() != nil:
		return "interrupted: " + context.Cause(ctx).Error()
	case errors.As(err, &ne) && ne.Timeout():
		return "connection timed out"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "network unreachable"
	default:
		return "connection failed"
	}
}
