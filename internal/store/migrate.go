// SPDX-License-Identifier: Apache-2.0

package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrationFS embed.FS

// ErrSchemaTooNew is returned when the database was written by a newer
// groundtruth: this build must not touch it.
var ErrSchemaTooNew = errors.New("store: schema is newer than this groundtruth knows")

// ErrSchemaOld is returned when the database needs migrations this build
// has and has not applied them.
var ErrSchemaOld = errors.New("store: schema is older than this groundtruth")

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the numbered migrations for a dialect, in order.
// Files are named NNNN_name.sql; numbers start at 1 and have no gaps, which
// a test checks.
func migrations(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("store: read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("store: migration %s: name must be NNNN_name.sql", e.Name())
		}
		b, err := migrationFS.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("store: read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("store: migration %s: expected number %d", m.name, i+1)
		}
	}
	return ms, nil
}

// LatestVersion returns the schema version this build migrates to.
func LatestVersion() int {
	ms, err := migrations("sqlite")
	if err != nil {
		panic(err) // embedded files: a build error
	}
	return len(ms)
}

const createVersionTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)`

// schemaVersion returns the highest applied migration, 0 for a new database.
func schemaVersion(ctx context.Context, db *sql.DB) (int, error) {
	if _, err := db.ExecContext(ctx, createVersionTable); err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return int(v.Int64), nil
}

// migrate applies every migration newer than the database, each in its own
// transaction together with its schema_migrations row.
func migrate(ctx context.Context, db *sql.DB, dialect string) error {
	ms, err := migrations(dialect)
	if err != nil {
		return err
	}
	cur, err := schemaVersion(ctx, db)
	if err != nil {
		return err
	}
	if cur > len(ms) {
		return fmt.Errorf("%w: database at version %d, this build knows %d: use a newer groundtruth", ErrSchemaTooNew, cur, len(ms))
	}
	for _, m := range ms[cur:] {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.version, m.name, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
	}
	return nil
}

// checkVersion refuses a database that is not at this build's version.
func checkVersion(ctx context.Context, db *sql.DB) error {
	cur, err := schemaVersion(ctx, db)
	if err != nil {
		return err
	}
	latest := LatestVersion()
	switch {
	case cur > latest:
		return fmt.Errorf("%w: database at version %d, this build knows %d: use a newer groundtruth", ErrSchemaTooNew, cur, latest)
	case cur == 0:
		return fmt.Errorf("%w: the database is empty: run groundtruth init", ErrSchemaOld)
	case cur < latest:
		return fmt.Errorf("%w: database at version %d, this build needs %d: run groundtruth migrate", ErrSchemaOld, cur, latest)
	}
	return nil
}
