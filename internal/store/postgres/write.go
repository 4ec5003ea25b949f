package postgres

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
)

// The session temp table a batch is copied into. ON COMMIT DELETE ROWS
// empties it at the end of every transaction, so it is created once per
// connection and never dropped (no catalog churn at high write rates).
const createPutTable = `CREATE TEMP TABLE IF NOT EXISTS tessera_put (
	ord            integer NOT NULL,
	collection     text NOT NULL,
	id             text NOT NULL,
	datetime       timestamptz,
	start_datetime timestamptz NOT NULL,
	end_datetime   timestamptz NOT NULL,
	geometry       bytea NOT NULL,
	doc            text COMPRESSION lz4 NOT NULL,
	props          text,
	search_text    text NOT NULL,
	bbox_cx        float8 NOT NULL,
	bbox_cy        float8 NOT NULL
) ON COMMIT DELETE ROWS`

var putColumns = []string{"ord", "collection", "id", "datetime", "start_datetime", "end_datetime", "geometry", "doc", "props",
	"search_text", "bbox_cx", "bbox_cy"}

// putSelect turns the copied rows into item rows. They were copied in key
// order, so that concurrent batches lock rows in the same order (a sort
// here would run after the content is computed and spill to disk).
const putSelect = `SELECT p.collection, p.id, p.datetime, p.start_datetime, p.end_datetime,
	ST_GeomFromWKB(p.geometry, 4326), ` + putContent + `, p.doc, p.search_text, p.bbox_cx, p.bbox_cy
	FROM pg_temp.tessera_put p`

// putContent is tessera_item_content(doc), from the properties the client
// cut out of the document when it could (parsing them alone is most of the
// cost of a write otherwise).
const putContent = `CASE WHEN p.props IS NULL THEN tessera_item_content(p.doc)
	ELSE jsonb_build_object('properties', p.props::jsonb) END`

const insertInto = `INSERT INTO items (collection, id, datetime, start_datetime, end_datetime, geometry, content, doc,
	search_text, bbox_cx, bbox_cy) `

const upsertSQL = insertInto + putSelect + `
	ON CONFLICT (collection, id) DO UPDATE SET datetime = excluded.datetime,
		start_datetime = excluded.start_datetime, end_datetime = excluded.end_datetime,
		geometry = excluded.geometry, content = excluded.content, doc = excluded.doc,
		search_text = excluded.search_text, bbox_cx = excluded.bbox_cx, bbox_cy = excluded.bbox_cy`

const createSQL = insertInto +
	putSelect + `
	ON CONFLICT (collection, id) DO NOTHING
	RETURNING collection, id`

const replaceSQL = `UPDATE items i SET datetime = p.datetime, start_datetime = p.start_datetime,
		end_datetime = p.end_datetime, geometry = ST_GeomFromWKB(p.geometry, 4326),
		content = ` + putContent + `, doc = p.doc,
		search_text = p.search_text, bbox_cx = p.bbox_cx, bbox_cy = p.bbox_cy
	FROM pg_temp.tessera_put p
	WHERE i.collection = p.collection AND i.id = p.id
	RETURNING p.ord`

type itemKey struct{ collection, id string }

// PutItems implements store.Writer.
func (db *DB) PutItems(ctx context.Context, items []stac.Item, mode store.WriteMode) ([]error, error) {
	errs := make([]error, len(items))
	if len(items) == 0 {
		return errs, nil
	}
	var colls []string
	var maxSpan int64
	for _, it := range items {
		if it.Collection != "" {
			colls = append(colls, it.Collection)
		}
		maxSpan = max(maxSpan, it.End.Sub(it.Start).Microseconds())
	}
	slices.Sort(colls)
	colls = slices.Compact(colls)
	// COPY rows, built once and copied again on every attempt.
	rows, freshRows := make([][]any, len(items)), make([][]any, len(items))
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		clear(errs)
		// Which collections exist; items of missing ones fail alone. FOR
		// SHARE keeps them from being deleted until we commit.
		exists := make(map[string]bool, len(colls))
		if len(colls) > 0 {
			r, err := tx.Query(ctx, `SELECT id FROM collections WHERE id = ANY($1) ORDER BY id FOR SHARE`, colls)
			if err != nil {
				return fmt.Errorf("postgres: check collections: %w", err)
			}
			for r.Next() {
				var id string
				if err := r.Scan(&id); err != nil {
					return fmt.Errorf("postgres: check collections: %w", err)
				}
				exists[id] = true
			}
			if err := r.Err(); err != nil {
				return fmt.Errorf("postgres: check collections: %w", err)
			}
		}
		// Which copy of each (collection, id) is written: the last one
		// for Upsert and Replace (as if written one after the other), the
		// first one for Create (later copies conflict with it).
		first := make(map[itemKey]int, len(items))
		last := make(map[itemKey]int, len(items))
		for i, it := range items {
			switch {
			case it.Collection == "":
				errs[i] = fmt.Errorf("item %q has no collection: %w", it.ID, store.ErrCollectionMissing)
				continue
			case !exists[it.Collection]:
				errs[i] = fmt.Errorf("collection %q of item %q: %w", it.Collection, it.ID, store.ErrCollectionMissing)
				continue
			}
			k := itemKey{it.Collection, it.ID}
			if _, ok := first[k]; !ok {
				first[k] = i
			}
			last[k] = i
		}
		pick := last
		if mode == store.Create {
			pick = first
		}
		batch := make([]int, 0, len(pick))
		for _, i := range pick {
			batch = append(batch, i)
		}
		if len(batch) == 0 {
			return nil
		}
		slices.SortFunc(batch, func(i, j int) int {
			a, b := items[i], items[j]
			return cmp.Or(strings.Compare(a.Collection, b.Collection), strings.Compare(a.ID, b.ID))
		})
		// New items are copied straight into their partition; only the
		// ones already stored (and Replace) go through the temp table and
		// an INSERT ... SELECT or UPDATE, which costs about twice as much.
		rest, copied := batch, []int(nil)
		if mode != store.Replace {
			fresh, err := absent(ctx, tx, items, batch)
			if err != nil {
				return err
			}
			ok, err := copyFresh(ctx, tx, items, fresh, freshRows)
			if err != nil {
				return err
			}
			if ok {
				copied = fresh
				rest = without(batch, fresh)
			}
		}
		written := batch
		switch mode {
		case store.Upsert:
			if len(rest) > 0 {
				if err := copyItems(ctx, tx, items, rest, rows); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, upsertSQL); err != nil {
					return fmt.Errorf("postgres: upsert items: %w", err)
				}
			}
		case store.Create:
			inserted := make(map[itemKey]bool, len(batch))
			for _, i := range copied {
				inserted[itemKey{items[i].Collection, items[i].ID}] = true
			}
			if len(rest) > 0 {
				if err := copyItems(ctx, tx, items, rest, rows); err != nil {
					return err
				}
				r, err := tx.Query(ctx, createSQL)
				if err != nil {
					return fmt.Errorf("postgres: insert items: %w", err)
				}
				for r.Next() {
					var k itemKey
					if err := r.Scan(&k.collection, &k.id); err != nil {
						return fmt.Errorf("postgres: insert items: %w", err)
					}
					inserted[k] = true
				}
				if err := r.Err(); err != nil {
					return fmt.Errorf("postgres: insert items: %w", err)
				}
			}
			for i, it := range items {
				k := itemKey{it.Collection, it.ID}
				if f, ok := first[k]; ok && (f != i || !inserted[k]) {
					errs[i] = fmt.Errorf("item %q in collection %q: %w", it.ID, it.Collection, store.ErrConflict)
				}
			}
			written = slices.DeleteFunc(slices.Clone(batch), func(i int) bool {
				return !inserted[itemKey{items[i].Collection, items[i].ID}]
			})
		case store.Replace:
			if err := copyItems(ctx, tx, items, batch, rows); err != nil {
				return err
			}
			r, err := tx.Query(ctx, replaceSQL)
			if err != nil {
				return fmt.Errorf("postgres: replace items: %w", err)
			}
			updated := make(map[int]bool, len(batch))
			for r.Next() {
				var ord int32
				if err := r.Scan(&ord); err != nil {
					return fmt.Errorf("postgres: replace items: %w", err)
				}
				updated[int(ord)] = true
			}
			if err := r.Err(); err != nil {
				return fmt.Errorf("postgres: replace items: %w", err)
			}
			for i, it := range items {
				if l, ok := last[itemKey{it.Collection, it.ID}]; ok && !updated[l] {
					errs[i] = fmt.Errorf("item %q in collection %q: %w", it.ID, it.Collection, store.ErrNotFound)
				}
			}
			written = slices.DeleteFunc(slices.Clone(batch), func(i int) bool { return !updated[i] })
		}
		if err := recordProperties(ctx, tx, items, written); err != nil {
			return err
		}
		if maxSpan > db.maxSpan.Load() {
			if _, err := tx.Exec(ctx, `UPDATE tessera_meta SET value = $1 WHERE key = 'max_span_us' AND value < $1`, maxSpan); err != nil {
				return fmt.Errorf("postgres: update meta: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	db.raiseSpan(maxSpan)
	return errs, nil
}

var nul = []byte(`\u0000`)

// forJSONB returns JSON text that jsonb can hold: jsonb cannot hold U+0000,
// so filters see U+FFFD instead (output comes from doc, unchanged).
func forJSONB(j []byte) []byte {
	if bytes.Contains(j, nul) {
		return bytes.ReplaceAll(j, nul, []byte(`\ufffd`))
	}
	return j
}

// utc is t in UTC, nil when t is.
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// copyItems copies items[batch...] into the temp table; rows caches the
// COPY rows across attempts.
func copyItems(ctx context.Context, tx pgx.Tx, items []stac.Item, batch []int, rows [][]any) error {
	if _, err := tx.Exec(ctx, createPutTable); err != nil {
		return fmt.Errorf("postgres: create temp table: %w", err)
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"pg_temp", "tessera_put"}, putColumns,
		pgx.CopyFromSlice(len(batch), func(j int) ([]any, error) {
			i := batch[j]
			if rows[i] == nil {
				rows[i] = itemRow(i, items[i])
			}
			return rows[i], nil
		}))
	if err != nil {
		return fmt.Errorf("postgres: copy items: %w", err)
	}
	if n != int64(len(batch)) {
		return fmt.Errorf("postgres: copy items: copied %d rows of %d", n, len(batch))
	}
	return nil
}

// itemColumns are the columns a new item is copied into.
var itemColumns = []string{"collection", "id", "datetime", "start_datetime", "end_datetime", "geometry", "content", "doc",
	"search_text", "bbox_cx", "bbox_cy"}

// absent returns the items of batch (in its order) that are not stored
// yet.
func absent(ctx context.Context, tx pgx.Tx, items []stac.Item, batch []int) ([]int, error) {
	stored := map[itemKey]bool{}
	for lo := 0; lo < len(batch); {
		coll := items[batch[lo]].Collection
		hi := lo
		ids := []string{}
		for ; hi < len(batch) && items[batch[hi]].Collection == coll; hi++ {
			ids = append(ids, items[batch[hi]].ID)
		}
		// One primary-key probe per id (LATERAL ... LIMIT 1): the plain
		// "id = ANY($2)" gets a bitmap scan of the whole collection from
		// the planner while a load has not been analyzed yet.
		r, err := tx.Query(ctx, `SELECT k.id FROM unnest($2::text[]) k (id)
			CROSS JOIN LATERAL (SELECT 1 FROM items i WHERE i.collection = $1 AND i.id = k.id LIMIT 1) s`, coll, ids)
		if err != nil {
			return nil, fmt.Errorf("postgres: find stored items: %w", err)
		}
		for r.Next() {
			var id string
			if err := r.Scan(&id); err != nil {
				return nil, fmt.Errorf("postgres: find stored items: %w", err)
			}
			stored[itemKey{coll, id}] = true
		}
		if err := r.Err(); err != nil {
			return nil, fmt.Errorf("postgres: find stored items: %w", err)
		}
		lo = hi
	}
	fresh := make([]int, 0, len(batch))
	for _, i := range batch {
		if !stored[itemKey{items[i].Collection, items[i].ID}] {
			fresh = append(fresh, i)
		}
	}
	return fresh, nil
}

// copyFresh copies items[fresh...] into the items table. It reports false,
// having written nothing, when another transaction stored one of them
// since absent looked (the caller then upserts them instead).
func copyFresh(ctx context.Context, tx pgx.Tx, items []stac.Item, fresh []int, rows [][]any) (bool, error) {
	if len(fresh) == 0 {
		return true, nil
	}
	sp, err := tx.Begin(ctx) // a savepoint
	if err != nil {
		return false, fmt.Errorf("postgres: copy items: %w", err)
	}
	n, err := sp.CopyFrom(ctx, pgx.Identifier{"items"}, itemColumns,
		pgx.CopyFromSlice(len(fresh), func(j int) ([]any, error) {
			i := fresh[j]
			if rows[i] == nil {
				rows[i] = freshRow(items[i])
			}
			return rows[i], nil
		}))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" { // unique_violation
		if err := sp.Rollback(ctx); err != nil {
			return false, fmt.Errorf("postgres: copy items: %w", err)
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("postgres: copy items: %w", err)
	}
	if n != int64(len(fresh)) {
		return false, fmt.Errorf("postgres: copy items: copied %d rows of %d", n, len(fresh))
	}
	if err := sp.Commit(ctx); err != nil {
		return false, fmt.Errorf("postgres: copy items: %w", err)
	}
	return true, nil
}

// without returns the elements of all (sorted by position) not in some
// (a subsequence of all).
func without(all, some []int) []int {
	out := make([]int, 0, len(all)-len(some))
	j := 0
	for _, i := range all {
		if j < len(some) && some[j] == i {
			j++
			continue
		}
		out = append(out, i)
	}
	return out
}

// freshRow is the row of a new item.
func freshRow(it stac.Item) []any {
	p, ok := properties(it)
	if !ok { // not from stac.DecodeItem, which requires the object
		p = []byte("{}")
	}
	text := searchText(it, p, true)
	p = forJSONB(p)
	content := make([]byte, 0, len(p)+15)
	content = append(append(append(content, `{"properties":`...), p...), '}')
	cx, cy := bboxCentre(it.BBox)
	return []any{it.Collection, it.ID, utc(it.Datetime), it.Start.UTC(), it.End.UTC(),
		ewkb(it.Geometry.Force2D().AsBinary(), 4326), content, it.Doc, text, cx, cy}
}

// ewkb turns 2D WKB into PostGIS's extended WKB with an SRID, the binary
// form the geometry type reads.
func ewkb(wkb []byte, srid uint32) []byte {
	if len(wkb) < 5 {
		return wkb
	}
	var order binary.ByteOrder = binary.LittleEndian
	if wkb[0] == 0 {
		order = binary.BigEndian
	}
	out := make([]byte, 9, len(wkb)+4)
	out[0] = wkb[0]
	order.PutUint32(out[1:5], order.Uint32(wkb[1:5])|0x20000000) // has an SRID
	order.PutUint32(out[5:9], srid)
	return append(out, wkb[5:]...)
}

func itemRow(i int, it stac.Item) []any {
	var props []byte // nil is NULL: the server extracts them
	p, ok := properties(it)
	text := searchText(it, p, ok)
	if ok {
		props = forJSONB(p)
	}
	cx, cy := bboxCentre(it.BBox)
	// Documents go as []byte: pgx sends them without a string copy.
	return []any{int32(i), it.Collection, it.ID, utc(it.Datetime), it.Start.UTC(), it.End.UTC(),
		it.Geometry.Force2D().AsBinary(), it.Doc, props, text, cx, cy}
}

// PutCollection implements store.Writer.
func (db *DB) PutCollection(ctx context.Context, c stac.Collection, mode store.WriteMode) error {
	doc := string(c.Doc)
	var content *string
	if bytes.Contains(c.Doc, nul) {
		s := string(forJSONB(c.Doc))
		content = &s
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		switch mode {
		case store.Replace:
			tag, err := tx.Exec(ctx, `UPDATE collections SET content = coalesce($3, $2)::jsonb, doc = $2 WHERE id = $1`, c.ID, doc, content)
			if err != nil {
				return fmt.Errorf("postgres: replace collection: %w", err)
			}
			if tag.RowsAffected() == 0 {
				return fmt.Errorf("collection %q: %w", c.ID, store.ErrNotFound)
			}
			return nil
		case store.Create:
			tag, err := tx.Exec(ctx, `INSERT INTO collections (id, content, doc) VALUES ($1, coalesce($3, $2)::jsonb, $2)
				ON CONFLICT (id) DO NOTHING`, c.ID, doc, content)
			if err != nil {
				return fmt.Errorf("postgres: create collection: %w", err)
			}
			if tag.RowsAffected() == 0 {
				return fmt.Errorf("collection %q: %w", c.ID, store.ErrConflict)
			}
		default:
			var inserted bool
			err := tx.QueryRow(ctx, `INSERT INTO collections (id, content, doc) VALUES ($1, coalesce($3, $2)::jsonb, $2)
				ON CONFLICT (id) DO UPDATE SET content = excluded.content, doc = excluded.doc
				RETURNING xmax = 0`, c.ID, doc, content).Scan(&inserted)
			if err != nil {
				return fmt.Errorf("postgres: write collection: %w", err)
			}
			if !inserted {
				return nil
			}
		}
		if _, err := tx.Exec(ctx, `SELECT tessera_create_partition($1)`, c.ID); err != nil {
			return fmt.Errorf("postgres: create the items partition of collection %q: %w", c.ID, err)
		}
		return nil
	})
}

// DeleteItem implements store.Writer.
func (db *DB) DeleteItem(ctx context.Context, collection, id string) error {
	var n int64
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM items WHERE collection = $1 AND id = $2`, collection, id)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: delete item: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("item %q in collection %q: %w", id, collection, store.ErrNotFound)
	}
	return nil
}

// DeleteCollection implements store.Writer: the collection's partition is
// dropped with it.
func (db *DB) DeleteCollection(ctx context.Context, id string) error {
	errMissing := errors.New("missing")
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM collections WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("postgres: delete collection: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return errMissing
		}
		if _, err := tx.Exec(ctx, `SELECT tessera_drop_partition($1)`, id); err != nil {
			return fmt.Errorf("postgres: drop the items partition of collection %q: %w", id, err)
		}
		return nil
	})
	if errors.Is(err, errMissing) {
		return fmt.Errorf("collection %q: %w", id, store.ErrNotFound)
	}
	return err
}
