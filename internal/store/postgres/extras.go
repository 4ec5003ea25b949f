package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tessera-geo/tessera/internal/geo"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
)

// searchText is the items.search_text of an item: the words (search.Words)
// of its id, collection, title, description and keywords, space-separated.
// props is the text of the item's properties object when the caller has
// cut it out already (ok), else it is read from the document.
func searchText(it stac.Item, props []byte, ok bool) string {
	if !ok {
		var d struct {
			Properties json.RawMessage `json:"properties"`
		}
		_ = json.Unmarshal(it.Doc, &d)
		props = d.Properties
	}
	// Only three members are needed (this runs for every item written):
	// a decoded item lists its properties' raw values; otherwise walk the
	// object's members without decoding the others.
	var title, description, keywords []byte
	pick := func(key string, v []byte) {
		switch key {
		case "title":
			title = v
		case "description":
			description = v
		case "keywords":
			keywords = v
		}
	}
	if it.RawProperties != nil {
		for _, p := range it.Properties {
			pick(p.Name, p.Value)
		}
	} else {
		stac.EachMember(props, pick)
	}
	parts := []string{it.ID, it.Collection}
	for _, raw := range [][]byte{title, description} {
		var s string
		if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
			parts = append(parts, s)
		}
	}
	if len(keywords) > 0 && keywords[0] == '[' {
		var kw []any
		if json.Unmarshal(keywords, &kw) == nil {
			for _, k := range kw {
				parts = append(parts, fmt.Sprint(k))
			}
		}
	}
	// As search.FreeText.Matches sees the joined fields.
	return strings.Join(search.Words(strings.Join(parts, " | ")), " ")
}

// bboxCentre is the centre of an item's bbox, which grid aggregations
// count by (as the SQLite store does).
func bboxCentre(b geo.BBox) (float64, float64) {
	return (b.MinX + b.MaxX) / 2, (b.MinY + b.MaxY) / 2
}

// recordProperties adds the (collection, name, type) triples of the written
// items to item_properties, in the write transaction. Triples are sorted so
// that concurrent writers take the unique index's locks in the same order.
func recordProperties(ctx context.Context, tx pgx.Tx, items []stac.Item, written []int) error {
	type triple struct{ c, n, t string }
	seen := map[triple]bool{}
	var ts []triple
	for _, i := range written {
		it := items[i]
		for _, p := range it.Properties {
			k := triple{it.Collection, p.Name, p.Type}
			if !seen[k] {
				seen[k] = true
				ts = append(ts, k)
			}
		}
	}
	if len(ts) == 0 {
		return nil
	}
	slices.SortFunc(ts, func(a, b triple) int {
		return strings.Compare(a.c+"\x00"+a.n+"\x00"+a.t, b.c+"\x00"+b.n+"\x00"+b.t)
	})
	cs, ns, tys := make([]string, len(ts)), make([]string, len(ts)), make([]string, len(ts))
	for i, t := range ts {
		cs[i], ns[i], tys[i] = t.c, t.n, t.t
	}
	_, err := tx.Exec(ctx, `INSERT INTO item_properties (collection, name, type)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING`, cs, ns, tys)
	if err != nil {
		return fmt.Errorf("postgres: record item properties: %w", err)
	}
	return nil
}

// ItemProperties implements store.PropertiesReader.
func (db *DB) ItemProperties(ctx context.Context, collections []string) (map[string]string, error) {
	sql := `SELECT name, type FROM item_properties ORDER BY name, type`
	var args []any
	if len(collections) > 0 {
		sql = `SELECT name, type FROM item_properties WHERE collection = ANY($1) ORDER BY name, type`
		args = append(args, collections)
	}
	rows, err := db.r.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: read item properties: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var n, t string
		if err := rows.Scan(&n, &t); err != nil {
			return nil, fmt.Errorf("postgres: read item properties: %w", err)
		}
		if prev, ok := out[n]; ok && prev != t {
			out[n] = "mixed"
			continue
		}
		out[n] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read item properties: %w", err)
	}
	return out, nil
}

// backfillBatch is how many items backfill reads and updates at a time.
const backfillBatch = 2000

// backfill fills in the columns schema version 2 added (search_text,
// bbox_cx, bbox_cy) for items written before it, from their documents,
// then records that it is done (tessera_meta.backfill_v2). It runs under
// the migration lock; an interrupted backfill continues on the next run.
func backfill(ctx context.Context, conn *pgx.Conn) error {
	var done int64
	if err := conn.QueryRow(ctx, `SELECT value FROM tessera_meta WHERE key = 'backfill_v2'`).Scan(&done); err != nil {
		return fmt.Errorf("postgres: backfill: %w", err)
	}
	if done == 1 {
		return nil
	}
	afterC, afterID := "", ""
	for {
		rows, err := conn.Query(ctx, `SELECT collection, id, doc FROM items
			WHERE (collection, id) > ($1, $2) ORDER BY collection, id LIMIT $3`, afterC, afterID, backfillBatch)
		if err != nil {
			return fmt.Errorf("postgres: backfill: %w", err)
		}
		var cs, ids, texts []string
		var xs, ys []float64
		n := 0
		for rows.Next() {
			var c, id string
			var doc []byte
			if err := rows.Scan(&c, &id, &doc); err != nil {
				rows.Close()
				return fmt.Errorf("postgres: backfill: %w", err)
			}
			n++
			afterC, afterID = c, id
			it, err := stac.DecodeItem(doc, stac.DecodeOptions{})
			if err != nil {
				rows.Close()
				return fmt.Errorf("postgres: backfill: item %q in collection %q: %w", id, c, err)
			}
			it.ID, it.Collection = id, c
			x, y := bboxCentre(it.BBox)
			cs, ids, texts, xs, ys = append(cs, c), append(ids, id), append(texts, searchText(it, nil, false)), append(xs, x), append(ys, y)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: backfill: %w", err)
		}
		if n > 0 {
			_, err := conn.Exec(ctx, `UPDATE items i SET search_text = u.t, bbox_cx = u.x, bbox_cy = u.y
				FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::float8[]) u(c, id, t, x, y)
				WHERE i.collection = u.c AND i.id = u.id`, cs, ids, texts, xs, ys)
			if err != nil {
				return fmt.Errorf("postgres: backfill: %w", err)
			}
		}
		if n < backfillBatch {
			break
		}
	}
	if _, err := conn.Exec(ctx, `UPDATE tessera_meta SET value = 1 WHERE key = 'backfill_v2'`); err != nil {
		return fmt.Errorf("postgres: backfill: %w", err)
	}
	return nil
}

var _ store.PropertiesReader = (*DB)(nil)
