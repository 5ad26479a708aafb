// SPDX-License-Identifier: Apache-2.0

package store_test

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"groundtruth/internal/store"
	"groundtruth/internal/store/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.Store {
		s, err := store.Create(t.Context(), filepath.Join(t.TempDir(), "test.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestSchemaVersions(t *testing.T) {
	ctx := t.Context()
	file := filepath.Join(t.TempDir(), "v.db")
	if _, err := store.Open(ctx, file); !errors.Is(err, store.ErrSchemaOld) {
		t.Errorf("Open of an empty database = %v, want ErrSchemaOld", err)
	}
	s, err := store.Create(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = store.Open(ctx, file)
	if err != nil {
		t.Fatalf("Open after Create = %v", err)
	}
	s.Close()

	db, err := sql.Open("sqlite", file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'x')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := store.Open(ctx, file); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Errorf("Open of a newer schema = %v, want ErrSchemaTooNew", err)
	}
	if _, err := store.Create(ctx, file); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Errorf("Create (migrate) of a newer schema = %v, want ErrSchemaTooNew", err)
	}
}

func TestLatestVersion(t *testing.T) {
	if store.LatestVersion() < 1 {
		t.Errorf("LatestVersion() = %d", store.LatestVersion())
	}
}
