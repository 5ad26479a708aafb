// SPDX-License-Identifier: Apache-2.0

package web

import (
	"net/http"
	"net/netip"
	"strings"
)

// Behind a reverse proxy every request comes from the proxy's address, so
// the client's address and scheme are taken from the header the proxy
// appends to, and only when the peer is one of the trusted proxies:
// anyone else could write those headers. The client is the rightmost hop
// that is not a trusted proxy: hops to its left were written by the
// client itself.

// Forwarding headers the server can read (Config.ProxyHeader).
const (
	HeaderXForwardedFor = "X-Forwarded-For" // with X-Forwarded-Proto
	HeaderForwarded     = "Forwarded"       // RFC 7239
)

// hop is one proxy hop: the address a proxy saw a request come from and
// the scheme it came by ("" if not told).
type hop struct {
	addr  netip.Addr // invalid if the hop's address was not an address
	proto string
}

// clientAddr returns the address of the client that made r.
func (s *server) clientAddr(r *http.Request) netip.Addr {
	a, _ := s.client(r)
	return a
}

// client returns the address of the client that made r and whether it
// reached the first proxy (or this server) over HTTPS.
func (s *server) client(r *http.Request) (netip.Addr, bool) {
	peer := hostAddr(r.RemoteAddr)
	if !s.trusted(peer) {
		return peer, r.TLS != nil
	}
	var hops []hop
	if s.proxyHeader == HeaderForwarded {
		hops = parseForwarded(r.Header.Values("Forwarded"))
	} else {
		hops = parseXForwardedFor(r.Header.Values("X-Forwarded-For"), r.Header.Values("X-Forwarded-Proto"))
	}
	for i := len(hops) - 1; i >= 0; i-- {
		h := hops[i]
		if !h.addr.IsValid() {
			// What a trusted proxy wrote is not an address (an
			// obfuscated "for="): nothing to its left can be trusted,
			// and the proxy itself is the nearest known client.
			return peer, h.proto == "https"
		}
		if i == 0 || !s.trusted(h.addr) {
			return h.addr, h.proto == "https"
		}
	}
	return peer, r.TLS != nil // no forwarding header: a request from the proxy itself
}

func (s *server) trusted(a netip.Addr) bool {
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseXForwardedFor reads X-Forwarded-For ("client, proxy1, proxy2",
// possibly over several header lines). X-Forwarded-Proto is one scheme,
// the one the client used, set by the proxy that saw it; if a chain of
// proxies wrote a list, its rightmost entry is given to the client's hop.
func parseXForwardedFor(fors, protos []string) []hop {
	var hops []hop
	for _, line := range fors {
		for f := range strings.SplitSeq(line, ",") {
			hops = append(hops, hop{addr: parseHopAddr(strings.TrimSpace(f))})
		}
	}
	if len(hops) > 0 && len(protos) > 0 {
		p := protos[len(protos)-1]
		if i := strings.LastIndexByte(p, ','); i >= 0 {
			p = p[i+1:]
		}
		proto := strings.ToLower(strings.TrimSpace(p))
		for i := range hops {
			hops[i].proto = proto
		}
	}
	return hops
}

// parseForwarded reads RFC 7239 Forwarded header lines: elements separated
// by commas, each pairs "token=value" separated by semicolons, values
// tokens or quoted strings. Only for= and proto= are kept.
func parseForwarded(lines []string) []hop {
	var hops []hop
	for _, line := range lines {
		for _, elem := range splitQuoted(line, ',') {
			var h hop
			for _, pair := range splitQuoted(elem, ';') {
				k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if !ok {
					continue
				}
				v = unquote(strings.TrimSpace(v))
				switch strings.ToLower(strings.TrimSpace(k)) {
				case "for":
					h.addr = parseHopAddr(v)
				case "proto":
					h.proto = strings.ToLower(v)
				}
			}
			hops = append(hops, h)
		}
	}
	return hops
}

// splitQuoted splits s at sep outside double-quoted strings.
func splitQuoted(s string, sep byte) []string {
	var parts []string
	quoted, escaped, start := false, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case escaped:
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

func unquote(v string) string {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return v
	}
	var b strings.Builder
	for i := 1; i < len(v)-1; i++ {
		if v[i] == '\\' && i+1 < len(v)-1 {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// parseHopAddr reads an address as proxies write it: "192.0.2.1",
// "192.0.2.1:4711", "2001:db8::1", "[2001:db8::1]" or "[2001:db8::1]:4711".
// Anything else ("unknown", "_hidden") is the invalid Addr.
func parseHopAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap()
	}
	return netip.Addr{}
}
