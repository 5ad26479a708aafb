// SPDX-License-Identifier: Apache-2.0

package capture

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/html"
)

// TelegramPost is what the public embed view of a Telegram channel post
// (https://t.me/<channel>/<id>?embed=1) shows without logging in. It is a
// claim by the page, recorded as seen at capture time.
type TelegramPost struct {
	URL          string           `json:"url"`                     // canonical https://t.me/<channel>/<id>
	Channel      string           `json:"channel"`                 // username at capture time (usernames can change)
	ChannelTitle string           `json:"channel_title,omitempty"` // display name
	PostID       int64            `json:"post_id"`
	PostedAt     time.Time        `json:"posted_at,omitzero"` // <time datetime>, as shown by Telegram
	Edited       bool             `json:"edited,omitempty"`
	Views        int64            `json:"views,omitempty"`      // parsed from ViewsText ("1.2K" → 1200; approximate)
	ViewsText    string           `json:"views_text,omitempty"` // exactly as shown
	Text         string           `json:"text,omitempty"`
	Forwarded    *TelegramForward `json:"forwarded_from,omitempty"`
	Photos       []string         `json:"photos,omitempty"` // image URLs from background-image styles
	Videos       []string         `json:"videos,omitempty"`
	Unsupported  bool             `json:"unsupported,omitempty"` // embed says the media must be viewed in the app
}

// TelegramForward is the "Forwarded from" header of a post: the first
// appearance signal, pointing at an earlier copy.
type TelegramForward struct {
	Name    string `json:"name"`
	URL     string `json:"url,omitempty"`     // link to the original channel or post, if shown
	Channel string `json:"channel,omitempty"` // username from URL
	PostID  int64  `json:"post_id,omitempty"`
}

var telegramPath = regexp.MustCompile(`^/(?:s/)?([A-Za-z][A-Za-z0-9_]{3,31})/([0-9]{1,18})/?$`)

// telegramHosts are the public hosts of Telegram post links.
var telegramHosts = map[string]bool{"t.me": true, "www.t.me": true, "telegram.me": true, "www.telegram.me": true}

// parseTelegramURL recognises https://t.me/<channel>/<id> and
// https://t.me/s/<channel>/<id>. ok is false for anything else, including
// private /c/<id>/<msg> links, which need a logged-in client.
func parseTelegramURL(raw string) (channel string, id int64, ok bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !telegramHosts[strings.ToLower(u.Hostname())] {
		return "", 0, false
	}
	m := telegramPath.FindStringSubmatch(u.Path)
	if m == nil || m[1] == "c" || m[1] == "s" {
		return "", 0, false
	}
	id, err = strconv.ParseInt(m[2], 10, 64)
	if err != nil || id <= 0 {
		return "", 0, false
	}
	return m[1], id, true
}

// telegramEmbedURL returns the embed view of a post under base (normally
// https://t.me; tests serve a look-alike).
func telegramEmbedURL(base, channel string, id int64) string {
	return fmt.Sprintf("%s/%s/%d?embed=1&mode=tme", strings.TrimRight(base, "/"), channel, id)
}

var (
	bgImage = regexp.MustCompile(`background-image\s*:\s*url\(\s*['"]?([^'")]+)['"]?\s*\)`)
	tmeLink = regexp.MustCompile(`^https?://(?:www\.)?(?:t|telegram)\.me/(?:s/)?([A-Za-z][A-Za-z0-9_]{3,31})(?:/([0-9]{1,18}))?/?(?:\?.*)?$`)
)

// parseTelegramEmbed reads a post out of the embed view's HTML. page is
// the URL it was fetched from (for relative links). It fails only when the
// page holds no tgme_widget_message at all (deleted post, wrong page).
func parseTelegramEmbed(body []byte, page *url.URL) (*TelegramPost, error) {
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("capture: parse Telegram embed: %w", err)
	}
	var msg *html.Node
	for n := range doc.Descendants() {
		if hasClass(n, "tgme_widget_message") {
			msg = n
			break
		}
	}
	if msg == nil {
		return nil, fmt.Errorf("capture: no Telegram post in %s: the post may be deleted or private", page)
	}
	p := &TelegramPost{}
	if chID := strings.SplitN(attr(msg, "data-post"), "/", 2); len(chID) == 2 {
		p.Channel = chID[0]
		p.PostID, _ = strconv.ParseInt(chID[1], 10, 64)
	}
	abs := func(ref string) string {
		u, err := page.Parse(strings.TrimSpace(ref))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return ""
		}
		return u.String()
	}
	seen := map[string]bool{}
	addMedia := func(list *[]string, ref string) {
		if s := abs(ref); s != "" && !seen[s] && len(*list) < maxMedia {
			seen[s] = true
			*list = append(*list, s)
		}
	}
	for n := range msg.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch {
		case hasClass(n, "tgme_widget_message_owner_name"):
			if p.ChannelTitle == "" {
				p.ChannelTitle = strings.TrimSpace(textOf(n))
				if m := tmeLink.FindStringSubmatch(attr(n, "href")); m != nil && p.Channel == "" {
					p.Channel = m[1]
				}
			}
		case hasClass(n, "tgme_widget_message_forwarded_from_name"):
			if p.Forwarded == nil {
				f := &TelegramForward{Name: strings.TrimSpace(textOf(n))}
				if href := attr(n, "href"); href != "" {
					f.URL = abs(href)
					if m := tmeLink.FindStringSubmatch(f.URL); m != nil {
						f.Channel = m[1]
						f.PostID, _ = strconv.ParseInt(m[2], 10, 64)
					}
				}
				p.Forwarded = f
			}
		case hasClass(n, "tgme_widget_message_text") && p.Text == "":
			p.Text = strings.TrimSpace(textOf(n))
		case hasClass(n, "tgme_widget_message_views") && p.ViewsText == "":
			p.ViewsText = strings.TrimSpace(textOf(n))
			p.Views, _ = parseViews(p.ViewsText)
		case hasClass(n, "tgme_widget_message_meta"):
			for c := range n.ChildNodes() {
				if c.Type == html.TextNode && strings.Contains(strings.ToLower(c.Data), "edited") {
					p.Edited = true
				}
			}
		case n.Data == "time" && p.PostedAt.IsZero() && n.Parent != nil && hasClass(n.Parent, "tgme_widget_message_date"):
			if t, err := time.Parse(time.RFC3339, attr(n, "datetime")); err == nil {
				p.PostedAt = t.UTC()
			}
		case hasClass(n, "tgme_widget_message_photo_wrap") || hasClass(n, "tgme_widget_message_photo") ||
			hasClass(n, "tgme_widget_message_video_thumb") || hasClass(n, "link_preview_image"):
			if m := bgImage.FindStringSubmatch(attr(n, "style")); m != nil {
				addMedia(&p.Photos, html.UnescapeString(m[1]))
			}
		case n.Data == "video" && (hasClass(n, "tgme_widget_message_video") || hasClass(n, "js-message_video")):
			addMedia(&p.Videos, attr(n, "src"))
		case hasClass(n, "message_media_not_supported"):
			p.Unsupported = true
		}
	}
	if p.Channel == "" || p.PostID <= 0 {
		return nil, fmt.Errorf("capture: Telegram post in %s has no channel/post id (data-post)", page)
	}
	p.URL = fmt.Sprintf("https://t.me/%s/%d", p.Channel, p.PostID)
	return p, nil
}

// parseViews turns Telegram's abbreviated counter ("987", "1.2K", "3.45M")
// into a number. The result is as precise as the text, no more.
func parseViews(s string) (int64, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	mult := int64(1)
	if s != "" {
		switch s[len(s)-1] {
		case 'K', 'k':
			mult, s = 1_000, s[:len(s)-1]
		case 'M', 'm':
			mult, s = 1_000_000, s[:len(s)-1]
		case 'B', 'b':
			mult, s = 1_000_000_000, s[:len(s)-1]
		}
	}
	whole, frac, _ := strings.Cut(s, ".")
	if !isDigits(whole) || len(whole) > 12 || len(frac) > 3 || (frac != "" && !isDigits(frac)) {
		return 0, fmt.Errorf("capture: views %q: not a Telegram counter", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w < 0 {
		return 0, fmt.Errorf("capture: views %q: not a Telegram counter", s)
	}
	n := w * mult
	if frac != "" {
		f, _ := strconv.ParseInt(frac, 10, 64)
		scale := int64(1)
		for range len(frac) {
			scale *= 10
		}
		n += f * mult / scale
	}
	return n, nil
}

func isDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
