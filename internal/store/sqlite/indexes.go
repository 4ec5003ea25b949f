package sqlite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tessera-geo/tessera/internal/cql2/cql2sql"
	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
)

// columnName is a SQL-safe, collision-free column name for a property.
// The "q_" prefix marks columns the writer fills (earlier catalogs had
// virtual generated "p_" columns, which parse the document on every read).
func columnName(prop string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(prop) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	sum := sha256.Sum256([]byte(prop))
	return "q_" + b.String() + "_" + hex.EncodeToString(sum[:3])
}

// ensureIndexes adds a column, filled by the writer, and an index for
// every indexed property; a column added to an existing catalog is filled
// from the documents once (that, and building the index, takes a while on
// a large catalog).
func (db *DB) ensureIndexes(ctx context.Context, props []store.IndexedProperty) error {
	db.indexed = map[string]cql2sql.Column{}
	db.indexedProps = props
	existing := map[string]bool{}
	rows, err := db.w.QueryContext(ctx, `SELECT name FROM pragma_table_xinfo('items')`)
	if err != nil {
		return fmt.Errorf("sqlite: read columns: %w", err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		existing[n] = true
	}
	rows.Close()
	// Earlier catalogs indexed virtual generated "p_" columns, which parse
	// the document on every write and read: drop those indexes (the
	// columns themselves cost nothing unread, and dropping a column would
	// rewrite the table).
	for n := range existing {
		if strings.HasPrefix(n, "p_") {
			if _, err := db.w.ExecContext(ctx, fmt.Sprintf(`DROP INDEX IF EXISTS %s_idx`, n)); err != nil {
				return fmt.Errorf("sqlite: drop old index of %s: %w", n, err)
			}
		}
	}
	for _, p := range props {
		col := columnName(p.Name)
		path := `'$.properties."` + p.Name + `"'`
		kind, test := cql2sql.Number, "IN ('integer','real')"
		if p.Kind == "text" {
			kind, test = cql2sql.Text, "= 'text'"
		}
		if !existing[col] {
			expr := fmt.Sprintf("CASE WHEN json_type(doc, %s) %s THEN json_extract(doc, %s) END", path, test, path)
			if _, err := db.w.ExecContext(ctx, fmt.Sprintf(`ALTER TABLE items ADD COLUMN %s ANY`, col)); err != nil {
				return fmt.Errorf("sqlite: add column for %s: %w", p.Name, err)
			}
			if _, err := db.w.ExecContext(ctx, fmt.Sprintf(`UPDATE items SET %s = %s`, col, expr)); err != nil {
				return fmt.Errorf("sqlite: fill column for %s: %w", p.Name, err)
			}
		}
		if _, err := db.w.ExecContext(ctx, fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %[1]s_idx ON items (%[1]s, id, collection)`, col)); err != nil {
			return fmt.Errorf("sqlite: index %s: %w", p.Name, err)
		}
		db.indexed[p.Name] = cql2sql.Column{Name: col, Kind: kind}
	}
	return nil
}

// indexedValue is the value an indexed column holds for an item: the
// property's value when it has the column's kind, NULL otherwise.
func indexedValue(it stac.Item, p store.IndexedProperty) any {
	for _, prop := range it.Properties {
		if prop.Name != p.Name {
			continue
		}
		switch {
		case p.Kind == "number" && prop.Type == "number":
			var f float64
			if json.Unmarshal(prop.Value, &f) == nil {
				return f
			}
		case p.Kind == "text" && prop.Type == "string":
			var s string
			if json.Unmarshal(prop.Value, &s) == nil {
				return s
			}
		}
		return nil
	}
	return nil
}
