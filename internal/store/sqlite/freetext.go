package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/tessera-geo/tessera/internal/search"
)

// ftsVersion is the layout of the free-text index; a catalog with an
// older one has it rebuilt when opened.
const ftsVersion = 2

// ftsSchema is the free-text index (the q parameter): a contentless FTS5
// table over id, collection and the text of title, description and
// keywords, read with one json_extract (one parse of the document).
const ftsSchema = `
DROP TRIGGER IF EXISTS items_fts_insert;
DROP TRIGGER IF EXISTS items_fts_update;
DROP TRIGGER IF EXISTS items_fts_delete;
DROP TABLE IF EXISTS items_fts;
CREATE VIRTUAL TABLE items_fts USING fts5 (
  id, collection, text,
  content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
  INSERT INTO items_fts (rowid, id, collection, text) VALUES (new.rowid, new.id, new.collection,
    json_extract(new.doc, '$.properties.title', '$.properties.description', '$.properties.keywords'));
END;
CREATE TRIGGER items_fts_update AFTER UPDATE OF doc ON items BEGIN
  DELETE FROM items_fts WHERE rowid = old.rowid;
  INSERT INTO items_fts (rowid, id, collection, text) VALUES (new.rowid, new.id, new.collection,
    json_extract(new.doc, '$.properties.title', '$.properties.description', '$.properties.keywords'));
END;
CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
  DELETE FROM items_fts WHERE rowid = old.rowid;
END;
INSERT INTO items_fts (rowid, id, collection, text)
  SELECT rowid, id, collection, json_extract(doc, '$.properties.title', '$.properties.description', '$.properties.keywords') FROM items;
`

// buildFreeTextIndex creates (or rebuilds, for catalogs written with an
// older layout) the free-text index, once; recorded in meta.
func buildFreeTextIndex(ctx context.Context, w *sql.DB) error {
	var v sql.NullInt64
	err := w.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'fts_version'`).Scan(&v)
	if err == nil && v.Int64 >= ftsVersion {
		return nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: read meta: %w", err)
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: build the free-text index: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, ftsSchema); err != nil {
		return fmt.Errorf("sqlite: build the free-text index: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('fts_version', ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, ftsVersion); err != nil {
		return fmt.Errorf("sqlite: build the free-text index: %w", err)
	}
	return tx.Commit()
}

// ftsPhrase quotes a phrase for an FTS5 MATCH expression.
func ftsPhrase(p string) string { return `"` + strings.ReplaceAll(p, `"`, `""`) + `"` }

// freeTextSQL is the condition for a free-text query. A selective query
// lists its matches once (rowid IN ...); a broad one is checked row by row
// (an FTS5 rowid lookup) while the datetime index is walked, which stops at
// the page size instead of listing half the catalog.
func freeTextSQL(f *search.FreeText, broad bool) (string, []any) {
	cond, args := freeTextMatch(f)
	if !broad {
		return cond, args
	}
	return strings.Replace(cond, "i.rowid IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)",
		"EXISTS (SELECT 1 FROM items_fts WHERE items_fts MATCH ? AND items_fts.rowid = i.rowid)", 1), args
}

// broadFreeText reports whether a free-text query matches more items than
// the probe cap.
func (db *DB) broadFreeText(ctx context.Context, f *search.FreeText) (bool, error) {
	cond, args := freeTextMatch(f)
	if !strings.HasPrefix(cond, "i.rowid IN") {
		return false, nil
	}
	var n int
	err := db.r.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM (SELECT 1 FROM items_fts WHERE items_fts MATCH ? LIMIT %d)`, db.probeCap), args...).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sqlite: probe the free-text index: %w", err)
	}
	return n >= db.probeCap, nil
}

// freeTextMatch is the set condition of a free-text query.
func freeTextMatch(f *search.FreeText) (string, []any) {
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
