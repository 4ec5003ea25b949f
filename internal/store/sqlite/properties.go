package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/tessera-geo/tessera/internal/stac"
)

func propKey(collection, name, typ string) string {
	return collection + "\x00" + name + "\x00" + typ
}

func (db *DB) loadProperties(ctx context.Context) error {
	rows, err := db.w.QueryContext(ctx, `SELECT collection, name, type FROM item_properties`)
	if err != nil {
		return fmt.Errorf("sqlite: read item properties: %w", err)
	}
	defer rows.Close()
	db.props = map[string]bool{}
	for rows.Next() {
		var c, n, t string
		if err := rows.Scan(&c, &n, &t); err != nil {
			return fmt.Errorf("sqlite: read item properties: %w", err)
		}
		db.props[propKey(c, n, t)] = true
	}
	return rows.Err()
}

// recordProperties stores the property names of items not seen before, in
// the writer's transaction. It returns the keys to remember after commit.
func (db *DB) recordProperties(ctx context.Context, tx *sql.Tx, items []stac.Item, idx []int) ([]string, error) {
	var fresh []string
	seen := map[string]bool{}
	db.mu.Lock()
	for _, i := range idx {
		it := items[i]
		for _, p := range it.Properties {
			k := propKey(it.Collection, p.Name, p.Type)
			if !db.props[k] && !seen[k] {
				seen[k] = true
				fresh = append(fresh, k)
			}
		}
	}
	db.mu.Unlock()
	for _, k := range fresh {
		f := strings.SplitN(k, "\x00", 3)
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO item_properties (collection, name, type) VALUES (?, ?, ?)`, f[0], f[1], f[2]); err != nil {
			return nil, fmt.Errorf("sqlite: record item properties: %w", err)
		}
	}
	return fresh, nil
}

func (db *DB) rememberProperties(keys []string) {
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, k := range keys {
		db.props[k] = true
	}
}

// forgetCollection drops a deleted collection's properties from the cache.
func (db *DB) forgetCollection(collection string) {
	db.mu.Lock()
	defer db.mu.Unlock()
	prefix := collection + "\x00"
	for k := range db.props {
		if strings.HasPrefix(k, prefix) {
			delete(db.props, k)
		}
	}
}

// ItemProperties implements store.PropertiesReader.
func (db *DB) ItemProperties(ctx context.Context, collections []string) (map[string]string, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	want := map[string]bool{}
	for _, c := range collections {
		want[c] = true
	}
	out := map[string]string{}
	for k := range db.props {
		f := strings.SplitN(k, "\x00", 3)
		if len(want) > 0 && !want[f[0]] {
			continue
		}
		if prev, ok := out[f[1]]; ok && prev != f[2] {
			out[f[1]] = "mixed"
			continue
		}
		out[f[1]] = f[2]
	}
	return out, nil
}
