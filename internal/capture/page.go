// SPDX-License-Identifier: Apache-2.0

package capture

import (
	"bytes"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/html"
)

// maxMedia bounds how many media URLs one page contributes.
const maxMedia = 50

// maxTitle bounds the page title kept, in bytes: an unclosed <title>
// swallows the rest of the document.
const maxTitle = 300

// pageInfo is what the capture needs from a page's HTML.
type pageInfo struct {
	Title  string
	Media  []string // absolute http(s) URLs, in document order, deduplicated
	Videos bool     // the page has a <video> or og:video, worth a yt-dlp run
}

// parsePage extracts the title and media links from HTML. The HTML5 parser
// never fails on malformed input (it repairs the tree as browsers do), so
// neither does this.
func parsePage(body []byte, base *url.URL) pageInfo {
	var p pageInfo
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return p
	}
	seen := map[string]bool{}
	add := func(ref string) {
		ref = strings.TrimSpace(ref)
		if ref == "" || len(p.Media) >= maxMedia {
			return
		}
		u, err := base.Parse(ref)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return
		}
		u.Fragment = ""
		if s := u.String(); !seen[s] {
			seen[s] = true
			p.Media = append(p.Media, s)
		}
	}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch n.Data {
		case "title":
			if p.Title == "" {
				p.Title = strings.Join(strings.Fields(textOf(n)), " ")
				if len(p.Title) > maxTitle {
					p.Title = strings.ToValidUTF8(p.Title[:maxTitle], "") + "…"
				}
			}
		case "img":
			if best := largestSrcset(attr(n, "srcset")); best != "" {
				add(best)
			} else {
				add(attr(n, "src"))
			}
		case "video":
			p.Videos = true
			add(attr(n, "src"))
			add(attr(n, "poster"))
		case "audio":
			add(attr(n, "src"))
		case "source":
			if n.Parent != nil && n.Parent.Data == "picture" {
				add(largestSrcset(attr(n, "srcset")))
			} else {
				add(attr(n, "src"))
			}
		case "meta":
			switch prop := attr(n, "property") + attr(n, "name"); prop {
			case "og:image", "og:image:url", "og:image:secure_url", "twitter:image":
				add(attr(n, "content"))
			case "og:video", "og:video:url", "og:video:secure_url", "twitter:player:stream":
				p.Videos = true
				add(attr(n, "content"))
			}
		}
	}
	return p
}

// largestSrcset returns the candidate with the largest width (w) or pixel
// density (x) descriptor from an HTML srcset attribute, "" if none parse.
func largestSrcset(srcset string) string {
	best, bestSize := "", -1.0
	for cand := range strings.SplitSeq(srcset, ",") {
		f := strings.Fields(cand)
		if len(f) == 0 {
			continue
		}
		size := 1.0 // a candidate without descriptor is 1x
		if len(f) > 1 {
			d := f[1]
			if v, err := strconv.ParseFloat(d[:len(d)-1], 64); err == nil && (strings.HasSuffix(d, "w") || strings.HasSuffix(d, "x")) {
				size = v
			}
		}
		if size > bestSize {
			best, bestSize = f[0], size
		}
	}
	return best
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	if n.Type != html.ElementNode {
		return false
	}
	for c := range strings.FieldsSeq(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

// textOf concatenates the text below n, turning <br> into newlines.
func textOf(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		switch {
		case d.Type == html.TextNode:
			b.WriteString(d.Data)
		case d.Type == html.ElementNode && d.Data == "br":
			b.WriteByte('\n')
		}
	}
	return b.String()
}
