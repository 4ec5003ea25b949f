package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tessera-geo/tessera/internal/store"
)

// RegisterSearch stores a registered search document (the searches table).
func (db *DB) RegisterSearch(ctx context.Context, id string, doc []byte) error {
	_, err := db.w.ExecContext(ctx,
		`INSERT INTO searches(id, doc, created) VALUES (?, ?, ?)
		 ON CONFLICT(id) DO UPDATE SET doc = excluded.doc`, id, string(doc), time.Now().UnixMicro())
	if err != nil {
		return fmt.Errorf("sqlite: register search %s: %w", id, err)
	}
	return nil
}

// RegisteredSearch returns a registered search document.
func (db *DB) RegisteredSearch(ctx context.Context, id string) ([]byte, error) {
	var doc string
	err := db.r.QueryRowContext(ctx, `SELECT doc FROM searches WHERE id = ?`, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("search %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: search %s: %w", id, err)
	}
	return []byte(doc), nil
}

var _ store.SearchRegistry = (*DB)(nil)
