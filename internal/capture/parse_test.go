// SPDX-License-Identifier: Apache-2.0

package capture

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestGuardClassify(t *testing.T) {
	g := &guard{}
	tests := []struct {
		addr    string
		blocked bool
		reason  string
	}{
		{"127.0.0.1", true, "loopback"},
		{"127.255.0.9", true, "loopback"},
		{"10.1.2.3", true, "private"},
		{"172.16.0.1", true, "private"},
		{"172.32.0.1", false, ""},
		{"192.168.100.1", true, "private"},
		{"169.254.169.254", true, "link-local, cloud metadata service"},
		{"169.254.1.1", true, "link-local"},
		{"100.64.0.1", true, "carrier-grade NAT, shared address space"},
		{"0.0.0.0", true, "unspecified, this network"},
		{"224.0.0.1", true, "multicast"},
		{"255.255.255.255", true, "reserved"},
		{"8.8.8.8", false, ""},
		{"93.184.215.14", false, ""},
		{"::1", true, "loopback"},
		{"::", true, "unspecified"},
		{"fd00:ec2::254", true, "private, unique local"},
		{"fe80::1%eth0", true, "link-local"},
		{"ff02::1", true, "multicast"},
		{"::ffff:127.0.0.1", true, "loopback"},
		{"::ffff:10.0.0.1", true, "private"},
		{"64:ff9b::a9fe:a9fe", true, "link-local, cloud metadata service, embedded in 64:ff9b::a9fe:a9fe"},
		{"2002:7f00:1::", true, "loopback, embedded in 2002:7f00:1::"},
		{"2002:808:808::", false, ""},
		{"2606:4700::1111", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			r, ok := g.classify(netip.MustParseAddr(tt.addr))
			if ok == tt.blocked || r.reason != tt.reason {
				t.Errorf("classify(%s) = %q, allowed %v; want %q, allowed %v", tt.addr, r.reason, ok, tt.reason, !tt.blocked)
			}
		})
	}
	allowed := &guard{allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	if _, ok := allowed.classify(netip.MustParseAddr("::ffff:10.9.9.9")); !ok {
		t.Errorf("allow 10.0.0.0/8 does not cover ::ffff:10.9.9.9")
	}
	if _, ok := allowed.classify(netip.MustParseAddr("127.0.0.1")); ok {
		t.Errorf("allow 10.0.0.0/8 lets 127.0.0.1 through")
	}
}

func TestGuardDialRefusesBeforeConnecting(t *testing.T) {
	g := &guard{resolver: mapResolver{"rebind.test": {netip.MustParseAddr("127.0.0.1")}}}
	_, _, err := g.dial(context.Background(), "rebind.test:80", "http://rebind.test/")
	var be *BlockedError
	if !errors.As(err, &be) || be.Addr.String() != "127.0.0.1" || be.Range.String() != "127.0.0.0/8" {
		t.Fatalf("dial = %v, want a BlockedError for 127.0.0.1 in 127.0.0.0/8", err)
	}
}

func TestParseViews(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"987", 987, true}, {"1.2K", 1200, true}, {"12.5K", 12500, true}, {"3.45M", 3450000, true},
		{"1M", 1000000, true}, {"1,234", 1234, true}, {" 7 ", 7, true}, {"2.1B", 2100000000, true},
		{"", 0, false}, {"K", 0, false}, {"1.2.3K", 0, false}, {"-5", 0, false}, {"+5", 0, false},
		{"1.-2K", 0, false}, {"abc", 0, false}, {"99999999999999999K", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseViews(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("parseViews(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestParseTelegramURL(t *testing.T) {
	tests := []struct {
		in      string
		channel string
		id      int64
		ok      bool
	}{
		{"https://t.me/examplechan/123", "examplechan", 123, true},
		{"https://t.me/s/examplechan/123", "examplechan", 123, true},
		{"https://T.ME/examplechan/123/", "examplechan", 123, true},
		{"https://telegram.me/examplechan/9?single", "examplechan", 9, true},
		{"https://t.me/c/1234567/89", "", 0, false}, // private: needs login
		{"https://t.me/examplechan", "", 0, false},
		{"https://t.me/examplechan/0", "", 0, false},
		{"https://example.org/examplechan/123", "", 0, false},
		{"ftp://t.me/examplechan/123", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ch, id, ok := parseTelegramURL(tt.in)
			if ch != tt.channel || id != tt.id || ok != tt.ok {
				t.Errorf("parseTelegramURL(%q) = %q, %d, %v; want %q, %d, %v", tt.in, ch, id, ok, tt.channel, tt.id, tt.ok)
			}
		})
	}
}

func TestParseTelegramEmbedVariants(t *testing.T) {
	base, _ := url.Parse("https://t.me/examplechan/5?embed=1")
	// A forward without a link (hidden sender), no views, not edited.
	const hidden = `<div class="tgme_widget_message" data-post="examplechan/5"><div class="tgme_widget_message_forwarded_from">Forwarded from <span class="tgme_widget_message_forwarded_from_name">Hidden User</span></div>
<div class="tgme_widget_message_text">hi</div><span class="tgme_widget_message_meta"><a class="tgme_widget_message_date"><time datetime="2023-01-02T03:04:05+02:00">x</time></a></span>
<div class="message_media_not_supported">Please open Telegram to view this post</div></div>`
	p, err := parseTelegramEmbed([]byte(hidden), base)
	if err != nil {
		t.Fatal(err)
	}
	if p.Forwarded == nil || p.Forwarded.Name != "Hidden User" || p.Forwarded.URL != "" || p.Edited || !p.Unsupported {
		t.Errorf("post = %+v, forward %+v", p, p.Forwarded)
	}
	if p.PostedAt.Format("2006-01-02T15:04:05Z07:00") != "2023-01-02T01:04:05Z" {
		t.Errorf("PostedAt = %v, want UTC", p.PostedAt)
	}
	for _, bad := range []string{"", "<html><body>Post not found</body></html>", `<div class="tgme_widget_message" data-post="x">`} {
		if _, err := parseTelegramEmbed([]byte(bad), base); err == nil {
			t.Errorf("parseTelegramEmbed(%q) succeeded", bad)
		}
	}
}

func TestParsePage(t *testing.T) {
	base, _ := url.Parse("https://example.org/a/page.html")
	p := parsePage([]byte(pageHTML), base)
	want := []string{"https://example.org/img/og.png", "https://example.org/img/a.png", "https://example.org/img/large.png", "https://example.org/media/clip.mp4"}
	if strings.Join(p.Media, " ") != strings.Join(want, " ") || !p.Videos || p.Title != "Shelling of the market" {
		t.Errorf("parsePage = %+v, want media %q, a video, the title", p, want)
	}
	p = parsePage([]byte(`<img src="javascript:alert(1)"><img src="data:image/png;base64,AA"><video><source src="v.webm"></video><picture><source srcset="p1.avif 1x, p2.avif 2x"></picture>`), base)
	if strings.Join(p.Media, " ") != "https://example.org/a/v.webm https://example.org/a/p2.avif" {
		t.Errorf("media = %q", p.Media)
	}
}

func FuzzParseTelegramEmbed(f *testing.F) {
	f.Add([]byte(telegramEmbedHTML))
	f.Add([]byte(`<div class="tgme_widget_message" data-post="a/1"><span class="tgme_widget_message_views">1.2K</span></div>`))
	f.Add([]byte(`<div class="tgme_widget_message" data-post="abcd/99"><a class="tgme_widget_message_photo_wrap" style="background-image:url(&quot;x.jpg&quot;)"></a>`))
	f.Add([]byte("<div class='tgme_widget_message_forwarded_from_name' href='https://t.me/x'>"))
	base, _ := url.Parse("https://t.me/examplechan/1?embed=1")
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parseTelegramEmbed(body, base)
		if err != nil {
			return
		}
		if p.PostID <= 0 || p.Channel == "" || p.Views < 0 || len(p.Photos) > maxMedia || len(p.Videos) > maxMedia {
			t.Errorf("invalid post %+v", p)
		}
		for _, u := range append(append([]string{}, p.Photos...), p.Videos...) {
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				t.Errorf("non-http media URL %q", u)
			}
		}
	})
}

func FuzzParsePage(f *testing.F) {
	f.Add([]byte(pageHTML))
	f.Add([]byte(malformedHTML))
	f.Add([]byte(`<img srcset=",,, 5w, x 9x, y -1w">`))
	base, _ := url.Parse("https://example.org/")
	f.Fuzz(func(t *testing.T, body []byte) {
		p := parsePage(body, base)
		if len(p.Media) > maxMedia || len(p.Title) > maxTitle+len("…") || !utf8.ValidString(p.Title) && utf8.Valid(body) {
			t.Errorf("parsePage: %d media, title %q", len(p.Media), p.Title)
		}
	})
}

func FuzzParseViews(f *testing.F) {
	for _, s := range []string{"1.2K", "987", "3.45M", "", "1,000", "9.999B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := parseViews(s); err == nil && n < 0 {
			t.Errorf("parseViews(%q) = %d", s, n)
		}
	})
}
