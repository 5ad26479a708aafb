// SPDX-License-Identifier: Apache-2.0

package media

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"groundtruth/internal/record"
	"groundtruth/internal/store"
)

// FirstKnownCaveat is said wherever groundtruth names a first appearance.
const FirstKnownCaveat = "earliest known appearance: the earliest posting groundtruth holds, not proof that it was first posted there"

// View is what investigators see of an original's analysis.
type View struct {
	Kind       string          `json:"kind"`
	Status     string          `json:"status"`
	Error      string          `json:"error,omitempty"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
	Tools      string          `json:"tools,omitempty"`
	AnalysedAt time.Time       `json:"analysed_at"`
	Hashes     []HashView      `json:"hashes,omitempty"`
	Keyframes  []KeyframeView  `json:"keyframes,omitempty"`
	Group      *Group          `json:"group,omitempty"`
}

// HashView is one stored hash in hexadecimal.
type HashView struct {
	Kind    string   `json:"kind"`
	PDQ     string   `json:"pdq"`
	Quality int      `json:"quality"`
	Seconds *float64 `json:"seconds,omitempty"`
}

// KeyframeView is one scene-change keyframe kept as a derived file.
type KeyframeView struct {
	Seconds float64 `json:"seconds"`
	SHA256  string  `json:"sha256"`
}

// Group is a media group: originals linked as near-duplicates, directly
// or through each other, with every sighting of any of them in order of
// posting time.
type Group struct {
	Members   []Member        `json:"members"`
	Links     []LinkView      `json:"links"`
	Sightings []GroupSighting `json:"sightings"`
	// FirstKnown is the sighting with the earliest posting time, if any
	// sighting has one.
	FirstKnown *GroupSighting `json:"first_known_appearance,omitempty"`
	Caveat     string         `json:"caveat,omitempty"`
}

// Member is one original of a group; Slug is empty for an original with
// no evidence record.
type Member struct {
	SHA256 string `json:"sha256"`
	Slug   string `json:"slug,omitempty"`
}

// LinkView says how two members were found to match.
type LinkView struct {
	A         string    `json:"a"`
	B         string    `json:"b"`
	Distance  int       `json:"distance"`
	Transform string    `json:"transform,omitempty"`
	APercent  *float64  `json:"a_percent,omitempty"`
	BPercent  *float64  `json:"b_percent,omitempty"`
	FoundAt   time.Time `json:"found_at"`
}

// GroupSighting is one sighting of one member.
type GroupSighting struct {
	Slug string `json:"slug"`
	record.Sighting
}

// Describe returns the analysis of original sum with its media group, or
// nil when it has not been analysed. visible says whether an evidence
// record may be shown to the reader; members it hides are left out.
func Describe(ctx context.Context, st *store.Store, sum string, visible func(*record.Evidence) bool) (*View, error) {
	m, err := st.Media(ctx, sum)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v := &View{Kind: m.Kind, Status: m.Status, Error: m.Error, Tools: m.Tools, AnalysedAt: m.AnalysedAt}
	if len(m.Metadata) > 0 && string(m.Metadata) != "{}" {
		v.Metadata = m.Metadata
	}
	hashes, err := st.MediaHashes(ctx, sum)
	if err != nil {
		return nil, err
	}
	for _, h := range hashes {
		hv := HashView{Kind: h.Kind, PDQ: hex.EncodeToString(h.Hash[:]), Quality: h.Quality}
		if h.Frame {
			sec := h.Seconds
			hv.Seconds = &sec
		}
		v.Hashes = append(v.Hashes, hv)
	}
	files, err := st.MediaFiles(ctx, sum)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if f.Role == "keyframe" {
			v.Keyframes = append(v.Keyframes, KeyframeView{Seconds: f.Seconds, SHA256: f.File})
		}
	}
	g, err := group(ctx, st, sum, visible)
	if err != nil {
		return nil, err
	}
	v.Group = g
	return v, nil
}

func group(ctx context.Context, st *store.Store, sum string, visible func(*record.Evidence) bool) (*Group, error) {
	members, links, err := st.MediaGroup(ctx, sum)
	if err != nil || len(members) < 2 {
		return nil, err
	}
	// Only members the reader may see are shown, and the group is only what
	// links among those reach from sum: a hidden item must not join two
	// visible ones, or the group would betray that it exists.
	records := map[string]*record.Evidence{}
	for _, m := range members {
		ev, err := st.EvidenceBySHA256(ctx, m)
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue // an original no record describes: nothing to show
		case err != nil:
			return nil, err
		case visible != nil && !visible(ev):
			continue
		}
		records[m] = ev
	}
	if records[sum] == nil {
		return nil, nil
	}
	shown := map[string]bool{sum: true}
	for grew := true; grew; {
		grew = false
		for _, l := range links {
			if records[l.A] != nil && records[l.B] != nil && shown[l.A] != shown[l.B] {
				shown[l.A], shown[l.B], grew = true, true, true
			}
		}
	}
	if len(shown) < 2 {
		return nil, nil
	}
	g := &Group{}
	for _, m := range members {
		if ev := records[m]; shown[m] {
			g.Members = append(g.Members, Member{SHA256: m, Slug: ev.Slug})
			for _, s := range ev.Sightings {
				g.Sightings = append(g.Sightings, GroupSighting{Slug: ev.Slug, Sighting: s})
			}
		}
	}
	for _, l := range links {
		if shown[l.A] && shown[l.B] {
			g.Links = append(g.Links, LinkView{A: l.A, B: l.B, Distance: l.Distance, Transform: l.Transform,
				APercent: l.APercent, BPercent: l.BPercent, FoundAt: l.FoundAt})
		}
	}
	// Sightings with a posting time come first, earliest first; those
	// without one cannot be placed and go last, in capture order.
	slices.SortStableFunc(g.Sightings, func(a, b GroupSighting) int {
		at, bt := a.PostedAt.IsZero(), b.PostedAt.IsZero()
		switch {
		case at != bt:
			if at {
				return 1
			}
			return -1
		case !at:
			return a.PostedAt.Std().Compare(b.PostedAt.Std())
		}
		return a.CapturedAt.Std().Compare(b.CapturedAt.Std())
	})
	if len(g.Sightings) > 0 && !g.Sightings[0].PostedAt.IsZero() {
		first := g.Sightings[0]
		g.FirstKnown = &first
		g.Caveat = FirstKnownCaveat
		// A posting time known only to the day overlaps any later time
		// that day: then the order of the first two is not established.
		if len(g.Sightings) > 1 && !g.Sightings[1].PostedAt.IsZero() && g.Sightings[1].PostedAt.Std().Before(first.PostedAt.End()) {
			g.Caveat += "; the next sighting was posted within the precision of this one's time, so which came first is not established"
		}
	}
	return g, nil
}
