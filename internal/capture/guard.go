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
// to an address in a blocked range.
type BlockedError struct {
	URL    string       // the URL being fetched (one hop of a redirect chain)
	Addr   netip.Addr   // the resolved address that was refused
	Reason string       // "loopback", "private", "link-local (cloud metadata)", …
	Range  netip.Prefix // the blocked range it fell in; suggested for --allow
}

// Error names the address, the reason and the flag that would allow it.
func (e *BlockedError) Error() string {
	return fmt.Sprintf("capture: refused to connect to %s (%s) for %s: private and local addresses are blocked; allow them with --allow %s",
		e.Addr, e.Reason, e.URL, e.Range)
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
			return nil, fmt.Errorf("capture: resolve %s for %s: %w", host, rawURL, err)
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("capture: resolve %s for %s: no addresses", host, rawURL)
		}
	}
	for _, a := range addrs {
		if r, ok := g.classify(a); !ok {
			return nil, &BlockedError{URL: rawURL, Addr: a.Unmap().WithZone(""), Reason: r.reason, Range: r.prefix}
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
				return &BlockedError{URL: rawURL, Addr: ap.Addr().Unmap(), Reason: r.reason, Range: r.prefix}
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
	return nil, netip.Addr{}, fmt.Errorf("capture: connect to %s for %s: %w", hostport, rawURL, errors.Join(errs...))
}
