// SPDX-License-Identifier: Apache-2.0

package evidence

import (
	"net/url"
	"strings"
)

// PlatformOf guesses the platform and channel of a URL from its host and
// path: t.me/<channel>/<post> is Telegram channel <channel>. It returns
// "web" and no channel for hosts it does not know, and nothing for text
// that is not an http(s) URL.
func PlatformOf(raw string) (platform, channel string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", ""
	}
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	host = strings.TrimPrefix(host, "m.")
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	first := ""
	if len(parts) > 0 {
		first = parts[0]
	}
	switch host {
	case "t.me", "telegram.me":
		if first == "s" && len(parts) > 1 { // t.me/s/<channel>/<post>, the web preview
			first = parts[1]
		}
		return "telegram", first
	case "x.com", "twitter.com", "mobile.twitter.com":
		return "x", first
	case "youtube.com", "youtu.be":
		if strings.HasPrefix(first, "@") {
			return "youtube", first
		}
		return "youtube", ""
	case "facebook.com", "fb.watch":
		return "facebook", ""
	case "instagram.com":
		return "instagram", ""
	case "tiktok.com":
		if strings.HasPrefix(first, "@") {
			return "tiktok", first
		}
		return "tiktok", ""
	case "vk.com":
		return "vk", ""
	}
	return "web", ""
}
