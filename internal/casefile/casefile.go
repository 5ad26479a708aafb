// SPDX-License-Identifier: Apache-2.0

// Package casefile reads groundtruth case files: versioned YAML documents
// that hold a whole case as records (see docs/casefile.md).
//
// Parse checks everything that can be checked without a database: syntax,
// encoding, unknown fields, types, each record's own rules, duplicate slugs
// and references between records of the file. Every error is one line that
// names the file, the line, the field and what to do. References to records
// that are not in the file are returned unresolved; the loader checks them
// against the store.
package casefile

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"groundtruth/internal/record"
)

// Version is the case-file format version this build reads and writes.
const Version = 1

// MaxSize is the largest case file accepted, in bytes.
const MaxSize = 64 << 20

// Meta describes the case as a whole.
type Meta struct {
	Slug        string `yaml:"slug"`
	Title       string `yaml:"title"`
	Description string `yaml:"description,omitempty"`
}

// EvidenceEntry is an evidence record as a case file gives it, with the
// file that holds its bytes (relative to the case file) or a request for a
// generated placeholder.
type EvidenceEntry struct {
	record.Evidence `yaml:",inline"`
	File            string `yaml:"file,omitempty"`
}

// document is the YAML shape of a case file. Its list fields are named after
// the kinds, in the plural, in load order.
type document struct {
	Format         *int                    `yaml:"groundtruth_casefile"`
	Case           Meta                    `yaml:"case"`
	Actors         []*record.Actor         `yaml:"actors"`
	Places         []*record.Place         `yaml:"places"`
	Weapons        []*record.Weapon        `yaml:"weapons"`
	Treaties       []*record.Treaty        `yaml:"treaties"`
	Memberships    []*record.Membership    `yaml:"memberships"`
	Incidents      []*record.Incident      `yaml:"incidents"`
	Evidence       []*EvidenceEntry        `yaml:"evidence"`
	Assessments    []*record.Assessment    `yaml:"assessments"`
	Claims         []*record.Claim         `yaml:"claims"`
	Investigations []*record.Investigation `yaml:"investigations"`
	Casualties     []*record.Casualty      `yaml:"casualties"`
	Victims        []*record.Victim        `yaml:"victims"`
	Tallies        []*record.Tally         `yaml:"tallies"`
}

// Section returns the case-file key under which records of kind k are listed.
func Section(k record.Kind) string {
	switch k {
	case record.KindEvidence:
		return "evidence"
	case record.KindCasualty:
		return "casualties"
	case record.KindTally:
		return "tallies"
	case record.KindTreaty:
		return "treaties"
	}
	return string(k) + "s"
}

// Entry is one record of a case file with where it was found.
type Entry struct {
	Record record.Record
	Path   string // e.g. "incidents[2]"
	Line   int
	File   string // evidence only: path of the bytes, resolved against the case file
}

// File is a parsed case file.
type File struct {
	Name    string // as given by the caller, used in messages
	Case    Meta
	Entries []Entry // in load order: by kind, then as listed

	// data is the file as parsed. The node tree that gives fields their
	// lines is dropped when Parse returns (it is many times the file's
	// size) and rebuilt from data only to place an error (see Where).
	data []byte
	top  *yaml.Node
}

// Error is a case-file error: what is wrong, where.
type Error struct {
	File  string
	Line  int
	Field string // path from the top of the file, e.g. incidents[2].location.lat
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Parse reads a case file. name is used in error messages; relative evidence
// file paths are resolved against its directory.
func Parse(name string, data []byte) (*File, error) {
	fail := func(line int, field, format string, args ...any) error {
		return &Error{File: name, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if len(data) > MaxSize {
		return nil, fail(0, "", "the file is %d bytes, more than the %d allowed: split the case into several files", len(data), MaxSize)
	}
	if !utf8.Valid(data) {
		off := invalidUTF8(data)
		return nil, fail(bytes.Count(data[:off], []byte("\n"))+1, "", "not valid UTF-8 (byte offset %d): save the file as UTF-8", off)
	}
	// The typed decode runs first and alone: yaml.v3 builds a node tree of
	// the whole file for it, about fifteen times the file's size, and
	// frees it when it returns. The second tree, kept for line numbers,
	// is built only after that one is garbage, so that at most one exists
	// at a time (see docs/benchmarks.md for the measured peak).
	var doc document
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	decodeErr := dec.Decode(&doc)
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		line, _, msg := yamlError(err, nil)
		return nil, fail(line, "", "%s", msg)
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, fail(1, "", "a case file is a YAML mapping that starts with groundtruth_casefile: %d", Version)
	}
	top := root.Content[0]
	if decodeErr != nil {
		line, field, msg := yamlError(decodeErr, &root)
		return nil, fail(line, field, "%s", msg)
	}
	if doc.Format == nil {
		return nil, fail(1, "groundtruth_casefile", "is missing: start the file with groundtruth_casefile: %d", Version)
	}
	if *doc.Format != Version {
		return nil, fail(lineOf(top, "groundtruth_casefile"), "groundtruth_casefile", "version %d is not supported: this groundtruth reads version %d; upgrade groundtruth or convert the file", *doc.Format, Version)
	}
	if doc.Case.Slug != "" && !record.ValidSlug(doc.Case.Slug) {
		return nil, fail(lineOf(top, "case.slug"), "case.slug", "%q is not a valid slug: use lower-case letters, digits and single hyphens", doc.Case.Slug)
	}

	f := &File{Name: name, Case: doc.Case, data: data, top: top}
	add := func(k record.Kind, i int, r record.Record, file string) {
		path := fmt.Sprintf("%s[%d]", Section(k), i)
		n := nodeAt(top, path)
		line := 0
		if n != nil {
			line = n.Line
		}
		f.Entries = append(f.Entries, Entry{Record: r, Path: path, Line: line, File: file})
	}
	for i, r := range doc.Actors {
		add(record.KindActor, i, r, "")
	}
	for i, r := range doc.Places {
		add(record.KindPlace, i, r, "")
	}
	for i, r := range doc.Weapons {
		add(record.KindWeapon, i, r, "")
	}
	for i, r := range doc.Treaties {
		add(record.KindTreaty, i, r, "")
	}
	for i, r := range doc.Memberships {
		add(record.KindMembership, i, r, "")
	}
	for i, r := range doc.Incidents {
		add(record.KindIncident, i, r, "")
	}
	for i, e := range doc.Evidence {
		if e == nil {
			add(record.KindEvidence, i, nil, "")
			continue
		}
		file := e.File
		if file != "" && !filepath.IsAbs(file) {
			file = filepath.Join(filepath.Dir(name), file)
		}
		add(record.KindEvidence, i, &e.Evidence, file)
	}
	for i, r := range doc.Assessments {
		add(record.KindAssessment, i, r, "")
	}
	for i, r := range doc.Claims {
		add(record.KindClaim, i, r, "")
	}
	for i, r := range doc.Investigations {
		add(record.KindInvestigation, i, r, "")
	}
	for i, r := range doc.Casualties {
		add(record.KindCasualty, i, r, "")
	}
	for i, r := range doc.Victims {
		add(record.KindVictim, i, r, "")
	}
	for i, r := range doc.Tallies {
		add(record.KindTally, i, r, "")
	}

	seen := map[record.Ref]bool{}
	for _, e := range f.Entries {
		if e.Record == nil || reflect.ValueOf(e.Record).IsNil() {
			return nil, fail(e.Line, e.Path, "is empty: give the record's fields or remove the item")
		}
		if err := checkCoordinates(nodeAt(top, e.Path)); err != nil {
			return nil, f.fieldError(e, err)
		}
		if err := e.Record.Validate(); err != nil {
			return nil, f.fieldError(e, err)
		}
		if ev, ok := e.Record.(*record.Evidence); ok {
			if err := checkEvidenceSource(ev, e.File); err != nil {
				return nil, f.fieldError(e, err)
			}
		}
		key := record.Ref{Kind: e.Record.Kind(), Slug: e.Record.Key()}
		if seen[key] {
			return nil, f.fieldError(e, &record.FieldError{Field: "slug", Msg: fmt.Sprintf("%q is used by another %s in this file: slugs must be unique per kind", key.Slug, key.Kind)})
		}
		seen[key] = true
	}
	f.top = nil
	return f, nil
}

// checkCoordinates refuses a location that lacks lat or lon. The decoder
// would read a missing coordinate as 0, a real place (in the Gulf of
// Guinea) that no investigator meant.
func checkCoordinates(n *yaml.Node) error {
	for _, field := range []string{"location", "camera"} {
		loc := mapValue(n, field)
		if loc == nil || loc.Kind != yaml.MappingNode {
			continue
		}
		for _, key := range []string{"lat", "lon"} {
			if mapValue(loc, key) == nil {
				return &record.FieldError{Field: field + "." + key, Msg: "is required: give both lat and lon in WGS84 degrees"}
			}
		}
	}
	return nil
}

func checkEvidenceSource(ev *record.Evidence, file string) error {
	switch {
	case file != "" && ev.Placeholder:
		return &record.FieldError{Field: "placeholder", Msg: "an item with a file is not a placeholder: remove one of the two"}
	case file == "" && !ev.Placeholder:
		return &record.FieldError{Field: "file", Msg: "is required: give the path of the original, or placeholder: true for a labelled stand-in"}
	case ev.Placeholder && ev.Title == "":
		return &record.FieldError{Field: "title", Msg: "is required for a placeholder: say what the missing media shows"}
	}
	return nil
}

// Where returns "file:line" for a field of an entry, for messages that the
// loader makes (e.g. a reference to a record that does not exist).
func (f *File) Where(e Entry, field string) (file string, line int, path string) {
	line = e.Line
	if n := nodeAt(f.tree(), e.Path+"."+field); n != nil && n.Line > 0 {
		line = n.Line
	}
	return f.Name, line, e.Path + "." + field
}

// tree returns the top mapping of the file's node tree, parsing the file
// again if Parse has dropped it. Only errors need it, and a file that
// parsed once parses again.
func (f *File) tree() *yaml.Node {
	if f.top == nil && f.data != nil {
		var root yaml.Node
		if yaml.Unmarshal(f.data, &root) == nil && len(root.Content) > 0 {
			f.top = root.Content[0]
		}
	}
	return f.top
}

// FieldError turns a record-relative error into a case-file *Error.
func (f *File) FieldError(e Entry, field, msg string) error {
	name, line, path := f.Where(e, field)
	return &Error{File: name, Line: line, Field: path, Msg: msg}
}

func (f *File) fieldError(e Entry, err error) error {
	var fe *record.FieldError
	if errors.As(err, &fe) {
		return f.FieldError(e, fe.Field, fe.Msg)
	}
	return &Error{File: f.Name, Line: e.Line, Field: e.Path, Msg: err.Error()}
}

var pathPartRE = regexp.MustCompile(`^([^\[\]]*)((?:\[\d+\])*)$`)

// nodeAt follows a path such as "incidents[2].location.lat" from n and
// returns the deepest node it reaches: a missing field resolves to its
// parent, so that the line is still close to the problem.
func nodeAt(n *yaml.Node, path string) *yaml.Node {
	if n == nil || path == "" {
		return n
	}
	cur := n
	for _, part := range strings.Split(path, ".") {
		m := pathPartRE.FindStringSubmatch(part)
		if m == nil {
			return cur
		}
		if m[1] != "" {
			next := mapValue(cur, m[1])
			if next == nil {
				return cur
			}
			cur = next
		}
		for _, idx := range strings.Split(strings.Trim(m[2], "[]"), "][") {
			if idx == "" {
				continue
			}
			i, _ := strconv.Atoi(idx)
			if cur.Kind != yaml.SequenceNode || i >= len(cur.Content) {
				return cur
			}
			cur = cur.Content[i]
		}
	}
	return cur
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func lineOf(top *yaml.Node, path string) int {
	if n := nodeAt(top, path); n != nil {
		return n.Line
	}
	return 1
}

var (
	yamlLineRE   = regexp.MustCompile(`line (\d+): `)
	unknownRE    = regexp.MustCompile(`field (\S+) not found in type (\S+)`)
	cannotReadRE = regexp.MustCompile("cannot unmarshal !!(\\w+)(?: `(.*)`)? into (\\S+)")
	alreadySetRE = regexp.MustCompile(`mapping key "(.*)" already defined at line (\d+)`)
	// Parser (not scanner) errors of yaml.v3 carry the 0-based line where
	// the enclosing block or list starts; scanner errors carry the 1-based
	// line of the problem.
	parserErrRE = regexp.MustCompile(`^did not find expected (key|node content|',' or '[\]}]'|'-' indicator|<document start>)`)
)

// yamlError turns a yaml.v3 error into a line, the path of the field at
// that line (when the file parsed far enough to know it) and a one-line
// message.
func yamlError(err error, top *yaml.Node) (line int, field, msg string) {
	msg = err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0] // the first problem; fixing it shows the next
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = strings.Replace(msg, m[0], "", 1)
	}
	if parserErrRE.MatchString(msg) {
		line++
		return line, "", fmt.Sprintf("malformed YAML: %s in the block that starts at line %d: check the indentation and brackets from there on", msg, line)
	}
	if top == nil {
		return line, "", "malformed YAML: " + msg + ": fix the syntax at that line"
	}
	key, value := "", ""
	if m := cannotReadRE.FindStringSubmatch(msg); m != nil {
		value = m[2]
	}
	if m := unknownRE.FindStringSubmatch(msg); m != nil {
		key = m[1]
	}
	field = pathAt(top, line, key, value)
	switch {
	case unknownRE.MatchString(msg):
		m := unknownRE.FindStringSubmatch(msg)
		msg = fmt.Sprintf("unknown field %q in %s: check the spelling against docs/casefile.md", m[1], typeName(m[2]))
	case cannotReadRE.MatchString(msg):
		m := cannotReadRE.FindStringSubmatch(msg)
		got := yamlKind(m[1])
		if m[2] != "" {
			got += fmt.Sprintf(" %q", m[2])
		}
		msg = fmt.Sprintf("cannot read %s as %s: check the value against docs/casefile.md", got, typeName(m[3]))
	case alreadySetRE.MatchString(msg):
		m := alreadySetRE.FindStringSubmatch(msg)
		msg = fmt.Sprintf("key %q appears twice (first at line %s): keep one", m[1], m[2])
	}
	return line, field, strings.ReplaceAll(msg, "\n", " ")
}

// pathAt returns the path of the field on the given line, such as
// "victims[1].age", or "" when none is. Where several fields share the line
// (a flow mapping such as {lat: 1, lon: 2}), the one named key or whose
// value is value wins, then the deepest.
func pathAt(n *yaml.Node, line int, key, value string) string {
	best, bestScore := "", -1
	var walk func(n *yaml.Node, prefix string, depth int)
	consider := func(p string, v *yaml.Node, depth int) {
		score := depth
		if (value != "" && v.Kind == yaml.ScalarNode && v.Value == value) || (key != "" && strings.HasSuffix(p, "."+key)) {
			score += 1000
		}
		if score > bestScore {
			best, bestScore = p, score
		}
	}
	walk = func(n *yaml.Node, prefix string, depth int) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, prefix, depth)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if prefix != "" {
					p = prefix + "." + k.Value
				}
				if k.Line == line {
					consider(p, v, depth)
				}
				walk(v, p, depth+1)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", prefix, i)
				if c.Kind == yaml.ScalarNode && c.Line == line {
					consider(p, c, depth)
				}
				walk(c, p, depth+1)
			}
		}
	}
	walk(n, "", 0)
	return best
}

func yamlKind(tag string) string {
	switch tag {
	case "seq":
		return "a list"
	case "map":
		return "a mapping"
	case "int", "float":
		return "the number"
	case "bool":
		return "the boolean"
	case "null":
		return "an empty value"
	}
	return "the text"
}

// typeName turns a Go type in a decoder message into words a case-file
// author knows.
func typeName(t string) string {
	t = strings.TrimLeft(t, "[]*")
	if i := strings.LastIndex(t, "."); i >= 0 {
		t = t[i+1:]
	}
	switch t {
	case "int", "int64", "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "string", "Kind", "ActorKind", "Reliability", "Credibility", "Likelihood", "Confidence",
		"Verification", "Status", "Precision", "WeaponClass", "ConsentType", "AssessmentKind",
		"Topic", "Stance", "TimePrecision", "IncidentStatus":
		return "text"
	case "Time":
		return "a date or time"
	case "document":
		return "the case file"
	case "EvidenceEntry":
		return "an evidence item"
	case "Count":
		return "a count (low, best, high)"
	case "Location":
		return "a location (lat, lon)"
	}
	name := strings.ToLower(t)
	if strings.ContainsRune("aeiou", rune(name[0])) {
		return "an " + name + " record"
	}
	return "a " + name + " record"
}

func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

func baseName(p string) string { return filepath.Base(p) }
