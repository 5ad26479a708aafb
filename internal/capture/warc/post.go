// SPDX-License-Identifier: Apache-2.0

package warc

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file folds the body of a non-GET request into its index key, as
// warcio.js postToGetUrl does, so that replay tools can tell two POSTs to
// the same URL apart. The rules depend on the request's Content-Type:
//
//	application/x-www-form-urlencoded  the body as text
//	application/json, text/plain       the JSON body flattened to key=value pairs
//	multipart/form-data                name=value of each simple part
//	anything else                      __wb_post_data=<base64 of the body>
//
// The result, cut to 4096 UTF-16 code units and passed through decodeURI, is
// appended to the URL as "__wb_method=<METHOD>&<query>".

// postToGetURL returns the URL with the request folded in and the query as
// reported in the requestBody field.
func postToGetURL(u, method, contentType string, body []byte) (newURL, requestBody string, ok bool) {
	if method == "GET" {
		return "", "", false
	}
	mime, _, _ := strings.Cut(contentType, ";")
	var query string
	switch mime {
	case "application/x-www-form-urlencoded":
		query = decodeText(body)
	case "application/json", "text/plain":
		query = jsonToQuery(decodeText(body))
	case "multipart/form-data":
		query = multipartToQuery(decodeText(body), contentType)
	default:
		query = "__wb_post_data=" + base64.StdEncoding.EncodeToString(body)
	}
	query = truncateUTF16(query, maxQuerySize)
	requestBody = query
	decoded, err := decodeURI(query)
	if err != nil {
		decoded = ""
	}
	sep := "?"
	if strings.Index(u, "?") > 0 {
		sep = "&"
	}
	return u + sep + "__wb_method=" + method + "&" + decoded, requestBody, true
}

// decodeText decodes body as UTF-8, replacing invalid bytes with U+FFFD as
// TextDecoder does.
func decodeText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var s strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		s.WriteRune(r) // utf8.RuneError is U+FFFD
		b = b[n:]
	}
	return s.String()
}

// truncateUTF16 cuts s to at most n UTF-16 code units, never inside a
// surrogate pair.
func truncateUTF16(s string, n int) string {
	units := 0
	for i, r := range s {
		w := utf16.RuneLen(r)
		if w < 0 {
			w = 1
		}
		if units+w > n {
			return s[:i]
		}
		units += w
	}
	return s
}

// formParams is an ordered list of name=value pairs serialised like
// URLSearchParams.
type formParams [][2]string

func (p formParams) has(k string) bool {
	return slices.ContainsFunc(p, func(kv [2]string) bool { return kv[0] == k })
}

// set replaces the first pair named k and drops the others, or appends.
func (p *formParams) set(k, v string) {
	i := slices.IndexFunc(*p, func(kv [2]string) bool { return kv[0] == k })
	if i < 0 {
		*p = append(*p, [2]string{k, v})
		return
	}
	(*p)[i][1] = v
	rest := slices.DeleteFunc((*p)[i+1:], func(kv [2]string) bool { return kv[0] == k })
	*p = (*p)[:i+1+len(rest)]
}

func (p formParams) String() string {
	var b strings.Builder
	for i, kv := range p {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(formEncode(kv[0]))
		b.WriteByte('=')
		b.WriteString(formEncode(kv[1]))
	}
	return b.String()
}

// formEncode is the application/x-www-form-urlencoded byte serialiser of
// the URL standard.
func formEncode(s string) string {
	const hexdigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			b.WriteByte('+')
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '*', c == '-', c == '.', c == '_':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexdigits[c>>4])
			b.WriteByte(hexdigits[c&15])
		}
	}
	return b.String()
}

// jsonValue is a decoded JSON value that keeps object member order.
type jsonValue struct {
	kind    byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null
	str     string
	members []jsonMember
	items   []jsonValue
}

type jsonMember struct {
	key string
	val jsonValue
}

// jsonToQuery flattens a JSON document like warcio's jsonToQueryParams:
// every string, number, boolean or null leaf becomes key=value, keyed by
// its nearest object member name; repeated names get ".2_", ".3_"…
// suffixes. Invalid JSON gives an empty query.
func jsonToQuery(text string) string {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	v, err := decodeJSON(dec, 0)
	if err != nil {
		return ""
	}
	if _, err := dec.Token(); err == nil {
		return "" // trailing data: JSON.parse would fail
	}
	var q formParams
	dupes := map[string]int{}
	key := func(k string) string {
		if !q.has(k) {
			return k
		}
		if _, ok := dupes[k]; !ok {
			dupes[k] = 1
		}
		dupes[k]++
		return k + "." + strconv.Itoa(dupes[k]) + "_"
	}
	var walk func(v jsonValue, k string)
	walk = func(v jsonValue, k string) {
		val := ""
		switch v.kind {
		case 'o':
			for _, m := range jsObjectOrder(v.members) {
				walk(m.val, m.key)
			}
		case 'a':
			for _, it := range v.items {
				walk(it, k)
			}
		case 'z':
			val = "null"
		default:
			val = v.str
		}
		if val != "" {
			q.set(key(k), val)
		}
	}
	walk(v, "")
	return q.String()
}

const maxJSONDepth = 100

// decodeJSON reads one value from dec.
func decodeJSON(dec *json.Decoder, depth int) (jsonValue, error) {
	if depth > maxJSONDepth {
		return jsonValue{}, errJSONDepth
	}
	tok, err := dec.Token()
	if err != nil {
		return jsonValue{}, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			v := jsonValue{kind: 'o'}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return jsonValue{}, err
				}
				k, _ := kt.(string)
				val, err := decodeJSON(dec, depth+1)
				if err != nil {
					return jsonValue{}, err
				}
				v.members = append(v.members, jsonMember{k, val})
			}
			_, err := dec.Token()
			return v, err
		case '[':
			v := jsonValue{kind: 'a'}
			for dec.More() {
				val, err := decodeJSON(dec, depth+1)
				if err != nil {
					return jsonValue{}, err
				}
				v.items = append(v.items, val)
			}
			_, err := dec.Token()
			return v, err
		}
		return jsonValue{}, errJSONDepth
	case string:
		return jsonValue{kind: 's', str: t}, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil && !math.IsInf(f, 0) {
			return jsonValue{}, err
		}
		return jsonValue{kind: 'n', str: jsNumber(f)}, nil
	case bool:
		return jsonValue{kind: 'b', str: strconv.FormatBool(t)}, nil
	default:
		return jsonValue{kind: 'z'}, nil
	}
}

var errJSONDepth = errors.New("json too deeply nested")

// jsObjectOrder returns members in the order JavaScript enumerates an
// object parsed by JSON.parse: array-index keys ascending, then the other
// keys in first-seen order; a repeated key keeps its first position and its
// last value.
func jsObjectOrder(ms []jsonMember) []jsonMember {
	var idx, rest []jsonMember
	pos := map[string]int{}
	put := func(list *[]jsonMember, m jsonMember) {
		if i, ok := pos[m.key]; ok {
			(*list)[i].val = m.val
			return
		}
		pos[m.key] = len(*list)
		*list = append(*list, m)
	}
	for _, m := range ms {
		if isArrayIndex(m.key) {
			put(&idx, m)
		} else {
			put(&rest, m)
		}
	}
	slices.SortStableFunc(idx, func(a, b jsonMember) int {
		x, _ := strconv.ParseUint(a.key, 10, 32)
		y, _ := strconv.ParseUint(b.key, 10, 32)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	return append(idx, rest...)
}

// isArrayIndex reports whether k is a canonical array index (0 ≤ n < 2³²−1).
func isArrayIndex(k string) bool {
	if k == "" || len(k) > 10 || (len(k) > 1 && k[0] == '0') {
		return false
	}
	n, err := strconv.ParseUint(k, 10, 64)
	return err == nil && n < math.MaxUint32
}

// jsNumber formats f as JavaScript's Number.prototype.toString does.
func jsNumber(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	if a := math.Abs(f); a >= 1e-6 && a < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // e.g. 1.5e-07
	mant, exp, _ := strings.Cut(s, "e")
	sign := exp[0]
	exp = strings.TrimLeft(exp[1:], "0")
	return mant + "e" + string(sign) + exp
}

var multipartField = regexp.MustCompile(`(?i)name="([^"]+)"\r\n\r\n([^\r\n\x{2028}\x{2029}]*)`)

// multipartToQuery extracts name=value from each part of a multipart body
// like warcio's mfdToQueryParams (a textual split on the boundary).
func multipartToQuery(text, contentType string) string {
	boundary := "undefined" // what JavaScript gives for a missing boundary
	if parts := strings.Split(contentType, "boundary="); len(parts) > 1 {
		boundary = parts[1]
	}
	re, err := regexp.Compile(`(?i)-*` + regexp.QuoteMeta(boundary) + `-*`)
	if err != nil {
		return ""
	}
	var q formParams
	for _, part := range re.Split(text, -1) {
		if m := multipartField.FindStringSubmatch(strings.TrimSpace(part)); m != nil {
			q.set(m[1], m[2])
		}
	}
	return q.String()
}

// decodeURI decodes percent-escapes like JavaScript's decodeURI: escapes of
// the reserved characters ;/?:@&=+$,# are kept, and a malformed escape or
// invalid UTF-8 is an error.
func decodeURI(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b bytes.Buffer
	for i := 0; i < len(s); {
		if s[i] != '%' {
			b.WriteByte(s[i])
			i++
			continue
		}
		c, ok := unhex2(s, i)
		if !ok {
			return "", errMalformedURI
		}
		if c < 0x80 {
			if strings.IndexByte(";/?:@&=+$,#", c) >= 0 {
				b.WriteString(s[i : i+3])
			} else {
				b.WriteByte(c)
			}
			i += 3
			continue
		}
		n := 0
		switch {
		case c&0xe0 == 0xc0:
			n = 2
		case c&0xf0 == 0xe0:
			n = 3
		case c&0xf8 == 0xf0:
			n = 4
		default:
			return "", errMalformedURI
		}
		seq := []byte{c}
		j := i + 3
		for k := 1; k < n; k++ {
			if j >= len(s) || s[j] != '%' {
				return "", errMalformedURI
			}
			cc, ok := unhex2(s, j)
			if !ok || cc&0xc0 != 0x80 {
				return "", errMalformedURI
			}
			seq = append(seq, cc)
			j += 3
		}
		if r, size := utf8.DecodeRune(seq); r == utf8.RuneError || size != n {
			return "", errMalformedURI
		}
		b.Write(seq)
		i = j
	}
	return b.String(), nil
}

var errMalformedURI = errors.New("malformed URI sequence")

// unhex2 decodes the two hex digits after the '%' at s[i].
func unhex2(s string, i int) (byte, bool) {
	if i+3 > len(s) {
		return 0, false
	}
	v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
	if err != nil {
		return 0, false
	}
	return byte(v), true
}
