package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/tessera-geo/tessera/internal/search"
)

// buildFreeTextIndex fills items_fts for catalogs written before it existed
// (once; recorded in meta).
func buildFreeTextIndex(ctx context.Context, w *sql.DB) error {
	var v sql.NullInt64
	err := w.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'fts_version'`).Scan(&v)
	if err == nil && v.Int64 >= 1 {
		return nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: read meta: %w", err)
	}
	_, err = w.ExecContext(ctx, `
		DELETE FROM items_fts;
		INSERT INTO items_fts (rowid, id, collection, title, description, keywords)
		  SELECT rowid, id, collection, json_extract(doc, '$.properties.title'), json_extract(doc, '$.properties.description'),
		         json_extract(doc, '$.properties.keywords') FROM items;
		INSERT INTO meta (key, value) VALUES ('fts_version', 1) ON CONFLICT (key) DO UPDATE SET value = excluded.value;`)
	if err != nil {
		return fmt.Errorf("sqlite: build the free-text index: %w", err)
	}
	return nil
}

// ftsPhrase quotes a phrase for an FTS5 MATCH expression.
func ftsPhrase(p string) string { return `"` + strings.ReplaceAll(p, `"`, `""`) + `"` }

// freeTextSQL is the condition for a free-text query.
func freeTextSQL(f *search.FreeText) (string, []any) {
	var pos []string
	if len(f.Groups) > 0 {
		var ors []string
		for _, g := range f.Groups {
			var ands []string
			for _, p := range g {
				ands = append(ands, ftsPhrase(p))
			}
			ors = append(ors, "("+strings.Join(ands, " AND ")+")")
		}
		pos = append(pos, "("+strings.Join(ors, " OR ")+")")
	}
	for _, p := range f.Required {
		pos = append(pos, ftsPhrase(p))
	}
	var ex []string
	for _, p := range f.Excluded {
		ex = append(ex, ftsPhrase(p))
	}
	switch {
	case len(pos) > 0 && len(ex) > 0:
		return "i.rowid IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)",
			[]any{strings.Join(pos, " AND ") + " NOT (" + strings.Join(ex, " OR ") + ")"}
	case len(pos) > 0:
		return "i.rowid IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)", []any{strings.Join(pos, " AND ")}
	default:
		return "i.rowid NOT IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)", []any{strings.Join(ex, " OR ")}
	}
}
