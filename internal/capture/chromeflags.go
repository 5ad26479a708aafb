// SPDX-License-Identifier: Apache-2.0

package capture

// deadProxy is where Chromium is told its HTTP proxy is: a privileged port
// nothing listens on, so a request the DevTools interception does not see
// fails to connect instead of reaching the network.
const deadProxy = "127.0.0.1:1"

// chromiumArgs is Chromium's command line for one render with its profile
// in the directory profile.
//
// A captured page is hostile, so the browser may reach nothing except
// through the guard. Requests the Fetch domain intercepts are answered by
// the guarded recorder. What it does not intercept goes to the dead proxy:
// WebSockets, speculative prefetch and prerender, a service worker's
// script, preconnects, TURN over TCP and Chromium's own update and account
// requests. The remaining paths are closed by the flags below; the
// network-namespace test (netns_test.go) checks each of them with packets.
// Invariant: every path that does not use the proxy is switched off here.
func chromiumArgs(profile string) []string {
	return []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-default-apps", "--no-default-browser-check",
		"--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
		// QUIC is UDP and would not use the HTTP proxy.
		"--disable-quic",
		// IsolateOrigins and site-per-process off: a cross-site frame
		// then renders in the page's process, where the page's Fetch
		// interception answers its requests (and they are recorded);
		// out of process they went to the dead proxy, leaving the frame
		// empty. The capture browser holds no other site's data.
		// NetworkTimeServiceQuerying off: no clock queries to Google.
		"--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable,MediaRouter,OptimizationHints,Translate," +
			"IsolateOrigins,site-per-process,NetworkTimeServiceQuerying",
		"--disable-site-isolation-trials",
		"--disable-domain-reliability", "--no-pings",
		"--proxy-server=" + deadProxy, "--proxy-bypass-list=<-loopback>",
		// WebRTC sends STUN straight from UDP sockets, around proxy and
		// interception: to loopback, to private ranges, to a STUN server
		// that tells the page the host's public address. With this policy
		// it may only use UDP through a proxy, which ours does not offer,
		// so it gathers no candidate and sends nothing but TURN over TCP
		// to the dead proxy.
		"--webrtc-ip-handling-policy=disable_non_proxied_udp",
		// Chromium's own resolver never asks DNS (nor DNS over HTTPS):
		// every name fails to resolve, except the proxy's address. Names
		// of intercepted requests are resolved by the guard instead.
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
		"--user-data-dir=" + profile, "--remote-debugging-pipe", "about:blank",
	}
}
