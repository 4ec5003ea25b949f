package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tessera-geo/tessera/internal/store"
)

// RegisterSearch stores a registered search document (the searches table).
func (db *DB) RegisterSearch(ctx context.Context, id string, doc []byte) error {
	_, err := db.w.Exec(ctx, `INSERT INTO searches (id, doc) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET doc = excluded.doc`, id, string(doc))
	if err != nil {
		return fmt.Errorf("postgres: register search %s: %w", id, err)
	}
	return nil
}

// RegisteredSearch returns a registered search document.
func (db *DB) RegisteredSearch(ctx context.Context, id string) ([]byte, error) {
	var doc string
	err := db.r.QueryRow(ctx, `SELECT doc FROM searches WHERE id = $1`, id).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("search %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: search %s: %w", id, err)
	}
	return []byte(doc), nil
}

var _ store.SearchRegistry = (*DB)(nil)
