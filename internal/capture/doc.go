// SPDX-License-Identifier: Apache-2.0

// Package capture preserves a web page or a public Telegram post as
// evidence: every HTTP exchange exactly as it crossed the wire (in a WARC,
// with the TLS certificate chain), a full-page screenshot and a PDF made by
// headless Chromium, the page's images and video (yt-dlp when installed),
// and a WACZ 1.1.1 package around it all.
//
// # Safety
//
// Capture fetches URLs that outside people submit, from a machine that
// can reach internal services. Every connection therefore goes through a
// guard that resolves the host itself and refuses loopback, private,
// link-local (including the 169.254.169.254 metadata service), CGNAT,
// multicast and other special-purpose addresses unless Config.Allow lists
// them. The check runs at connect time against the address actually
// dialled, so redirects, browser subresources, yt-dlp (through a guarded
// local proxy) and DNS rebinding are all covered. A refusal names the
// host, never the address it resolved to.
//
// # Limits
//
// A hostile page must not hold a capture, its worker or the server. Every
// read and write on a server's connection has an idle deadline, each fetch
// a total one, and each stage of a capture its own share of the time limit
// (the render never takes the quarter kept for media). Bodies are bounded
// decoded, compressed ones more tightly, and a capture's bodies together;
// Chromium's process group is measured from /proc and killed above its
// share, when its stage ends, and on every exit path. [MemoryCeiling]
// states the resulting bound.
//
// # Recording
//
// Each fetch uses its own HTTP/1.1 connection whose bytes are copied as
// they are written and read, so a WARC request/response pair holds the
// real messages, not a reconstruction. Chromium never touches the network:
// the DevTools Fetch domain hands each of its requests to the same
// recording client, and a dead proxy catches anything else.
//
// # Telegram
//
// Public posts (https://t.me/<channel>/<id>) are fetched through their
// embed view (?embed=1), parsed into a [TelegramPost] and stored as a WARC
// metadata record. A "Forwarded from" header becomes a [Sighting] of the
// earlier post it names.
package capture
