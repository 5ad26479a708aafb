// SPDX-License-Identifier: Apache-2.0

// Package evidence brings originals into the locker and records them as
// evidence items with their sightings.
package evidence

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"groundtruth/internal/locker"
	"groundtruth/internal/record"
	"groundtruth/internal/store"
)

// Input describes one original to ingest and what is known about it.
type Input struct {
	Path         string // file to read
	Filename     string // original name to record; defaults to the base of Path
	Slug         string // evidence slug; defaults to ev-<first 12 hex digits>
	Title        string
	Credit       string
	Incidents    []string
	Sighting     *record.Sighting // where it was seen, if known
	Graphic      bool
	PersonalData bool
	Placeholder  bool
}

// Result says what an ingest did.
type Result struct {
	Evidence *record.Evidence
	Stored   bool     // the bytes were new to the locker
	Op       store.Op // what happened to the evidence record
}

// DefaultSlug returns the slug given to an original ingested without one.
func DefaultSlug(sum string) string { return "ev-" + sum[:12] }

// Ingest stores an original and records it. It returns only after the
// bytes and the record are durable, so a caller may acknowledge the item
// once it returns. Ingesting bytes that are already held adds no copy; the
// new sighting, incidents and flags are merged into the existing record.
func Ingest(ctx context.Context, st *store.Store, lk *locker.Locker, in Input, c store.Change) (*Result, error) {
	f, err := os.Open(in.Path)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	defer f.Close()
	head := make([]byte, SniffLen)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("ingest: read %s: %w", in.Path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("ingest: read %s: %w", in.Path, err)
	}
	sum, size, created, err := lk.Put(f)
	if err != nil {
		return nil, fmt.Errorf("ingest %s: %w", in.Path, err)
	}
	if in.Filename == "" {
		in.Filename = filepath.Base(in.Path)
	}
	res := &Result{Stored: created}
	err = st.Update(ctx, func(tx *store.Tx) error {
		if err := tx.PutBlob(store.Blob{SHA256: sum, Size: size, MediaType: Sniff(head[:n]), StoredAt: c.At}); err != nil {
			return err
		}
		ev, err := Record(tx, sum, size, Sniff(head[:n]), in, c)
		if err != nil {
			return err
		}
		if err := tx.CheckRefs(ev); err != nil {
			return err
		}
		res.Evidence = ev
		res.Op, err = tx.Put(ev, c)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("ingest %s: %w", in.Path, err)
	}
	return res, nil
}

// Record returns the evidence record for an original: a new one, or the
// existing one with what in adds merged into it. Merging only adds: a
// sighting, an incident, a flag once set are never dropped by a later
// ingest.
func Record(tx *store.Tx, sum string, size int64, mediaType string, in Input, c store.Change) (*record.Evidence, error) {
	ev, err := tx.EvidenceBySHA256(sum)
	switch {
	case errors.Is(err, store.ErrNotFound):
		slug := in.Slug
		if slug == "" {
			slug = DefaultSlug(sum)
		}
		at := c.At
		if at.IsZero() {
			at = time.Now()
		}
		ev = &record.Evidence{
			Slug: slug, SHA256: sum, Size: size, MediaType: mediaType, Filename: in.Filename,
			AddedBy: c.By, AddedAt: record.At(at),
		}
	case err != nil:
		return nil, err
	case in.Slug != "" && in.Slug != ev.Slug:
		return nil, fmt.Errorf("%w: these bytes are already evidence %q; use that slug", store.ErrConflict, ev.Slug)
	}
	add := &record.Evidence{
		Title: in.Title, Credit: in.Credit, Incidents: in.Incidents,
		Graphic: in.Graphic, PersonalData: in.PersonalData, Placeholder: in.Placeholder,
	}
	if in.Sighting != nil {
		add.Sightings = []record.Sighting{*in.Sighting}
	}
	ev.Absorb(add)
	return ev, nil
}
