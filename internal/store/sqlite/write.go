package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
)

// rowsPerInsert is how many items one INSERT statement carries: fewer
// statements is most of the bulk-load speed with a pure-Go SQLite, but
// each statement keeps a journal of the pages it changes (the triggers
// write virtual tables, so it may have to roll back alone), and past a few
// megabytes the allocator hands that memory back to the OS and faults it
// in again for the next statement. Loading 100k items took 26 s with 64
// rows, 17 s with 32 or 16 and 49 s with 512 (docs/benchmarks.md).
const rowsPerInsert = 32

const itemCols = 11 // plus one per indexed property

// PutItems implements store.Writer.
func (db *DB) PutItems(ctx context.Context, items []stac.Item, mode store.WriteMode) ([]error, error) {
	errs := make([]error, len(items))
	if len(items) == 0 {
		return errs, nil
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback()

	// Which collections exist; items of missing ones fail alone.
	exists := map[string]bool{}
	for _, it := range items {
		if _, ok := exists[it.Collection]; ok {
			continue
		}
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM collections WHERE id = ?`, it.Collection).Scan(&one)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("sqlite: check collection: %w", err)
		}
		exists[it.Collection] = err == nil
	}

	// Within one batch the last copy of a (collection, id) wins, as if the
	// items had been written one after the other.
	last := make(map[[2]string]int, len(items))
	for i, it := range items {
		last[[2]string{it.Collection, it.ID}] = i
	}
	var batch []int
	var maxSpan int64
	for i, it := range items {
		switch {
		case it.Collection == "":
			errs[i] = fmt.Errorf("item %q has no collection: %w", it.ID, store.ErrCollectionMissing)
		case !exists[it.Collection]:
			errs[i] = fmt.Errorf("collection %q of item %q: %w", it.Collection, it.ID, store.ErrCollectionMissing)
		case last[[2]string{it.Collection, it.ID}] != i && mode == store.Upsert:
			// superseded by a later copy in the same batch
		default:
			batch = append(batch, i)
			if s := it.End.Sub(it.Start).Microseconds(); s > maxSpan {
				maxSpan = s
			}
		}
	}

	switch mode {
	case store.Upsert:
		if err := db.insertRows(ctx, tx, items, batch, true); err != nil {
			return nil, err
		}
	case store.Create:
		for _, i := range batch {
			err := db.insertRows(ctx, tx, items, []int{i}, false)
			if isConstraint(err) {
				errs[i] = fmt.Errorf("item %q in collection %q: %w", items[i].ID, items[i].Collection, store.ErrConflict)
			} else if err != nil {
				return nil, err
			}
		}
	case store.Replace:
		for _, i := range batch {
			n, err := db.replaceRow(ctx, tx, items[i])
			if err != nil {
				return nil, err
			}
			if n == 0 {
				errs[i] = fmt.Errorf("item %q in collection %q: %w", items[i].ID, items[i].Collection, store.ErrNotFound)
			}
		}
	}
	var written []int
	for _, i := range batch {
		if errs[i] == nil {
			written = append(written, i)
		}
	}
	fresh, err := db.recordProperties(ctx, tx, items, written)
	if err != nil {
		return nil, err
	}
	if maxSpan > db.maxSpan.Load() {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES('max_span_us', ?)
			ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)`, maxSpan); err != nil {
			return nil, fmt.Errorf("sqlite: update meta: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: commit: %w", err)
	}
	db.rememberProperties(fresh)
	if maxSpan > db.maxSpan.Load() {
		db.maxSpan.Store(maxSpan)
	}
	return errs, nil
}

func (db *DB) itemArgs(args []any, it stac.Item) []any {
	var dt any
	if it.Datetime != nil {
		dt = it.Datetime.UnixMicro()
	}
	args = append(args, it.Collection, it.ID, dt, it.Start.UnixMicro(), it.End.UnixMicro(),
		it.BBox.MinX, it.BBox.MinY, it.BBox.MaxX, it.BBox.MaxY, it.Geometry.AsBinary(), string(it.Doc))
	for _, p := range db.indexedProps {
		args = append(args, indexedValue(it, p))
	}
	return args
}

// indexedCols are the writer-filled property columns, in order.
func (db *DB) indexedCols() []string {
	cols := make([]string, len(db.indexedProps))
	for i, p := range db.indexedProps {
		cols[i] = columnName(p.Name)
	}
	return cols
}

// insertRows inserts (or upserts) items[idx...] in multi-row statements.
func (db *DB) insertRows(ctx context.Context, tx *sql.Tx, items []stac.Item, idx []int, upsert bool) error {
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, s := range stmts {
			s.Close()
		}
	}()
	args := make([]any, 0, rowsPerInsert*(itemCols+len(db.indexedProps)))
	for start := 0; start < len(idx); start += rowsPerInsert {
		end := min(start+rowsPerInsert, len(idx))
		n := end - start
		st, ok := stmts[n]
		if !ok {
			var err error
			st, err = tx.PrepareContext(ctx, insertSQL(n, upsert, db.indexedCols()))
			if err != nil {
				return fmt.Errorf("sqlite: prepare insert: %w", err)
			}
			stmts[n] = st
		}
		args = args[:0]
		for _, i := range idx[start:end] {
			args = db.itemArgs(args, items[i])
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("sqlite: insert items: %w", err)
		}
	}
	return nil
}

func insertSQL(rows int, upsert bool, extra []string) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO items (collection, id, datetime, start_datetime, end_datetime, minx, miny, maxx, maxy, geometry, doc`)
	for _, c := range extra {
		b.WriteString(", " + c)
	}
	b.WriteString(") VALUES ")
	row := "(" + placeholders(itemCols+len(extra)) + ")"
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	if upsert {
		b.WriteString(` ON CONFLICT (collection, id) DO UPDATE SET datetime = excluded.datetime,
			start_datetime = excluded.start_datetime, end_datetime = excluded.end_datetime,
			minx = excluded.minx, miny = excluded.miny, maxx = excluded.maxx, maxy = excluded.maxy,
			geometry = excluded.geometry, doc = excluded.doc`)
		for _, c := range extra {
			b.WriteString(", " + c + " = excluded." + c)
		}
	}
	return b.String()
}

func (db *DB) replaceRow(ctx context.Context, tx *sql.Tx, it stac.Item) (int64, error) {
	a := db.itemArgs(nil, it)
	set := "datetime = ?, start_datetime = ?, end_datetime = ?, minx = ?, miny = ?, maxx = ?, maxy = ?, geometry = ?, doc = ?"
	for _, c := range db.indexedCols() {
		set += ", " + c + " = ?"
	}
	res, err := tx.ExecContext(ctx, `UPDATE items SET `+set+` WHERE collection = ? AND id = ?`,
		append(a[2:], a[0], a[1])...)
	if err != nil {
		return 0, fmt.Errorf("sqlite: replace item: %w", err)
	}
	return res.RowsAffected()
}

// PutCollection implements store.Writer.
func (db *DB) PutCollection(ctx context.Context, c stac.Collection, mode store.WriteMode) error {
	var q string
	switch mode {
	case store.Create:
		q = `INSERT INTO collections (id, doc) VALUES (?, ?)`
	case store.Replace:
		res, err := db.w.ExecContext(ctx, `UPDATE collections SET doc = ? WHERE id = ?`, string(c.Doc), c.ID)
		if err != nil {
			return fmt.Errorf("sqlite: replace collection: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("collection %q: %w", c.ID, store.ErrNotFound)
		}
		return nil
	default:
		q = `INSERT INTO collections (id, doc) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc`
	}
	_, err := db.w.ExecContext(ctx, q, c.ID, string(c.Doc))
	if isConstraint(err) {
		return fmt.Errorf("collection %q: %w", c.ID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlite: write collection: %w", err)
	}
	return nil
}

// DeleteItem implements store.Writer.
func (db *DB) DeleteItem(ctx context.Context, collection, id string) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM items WHERE collection = ? AND id = ?`, collection, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete item: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("item %q in collection %q: %w", id, collection, store.ErrNotFound)
	}
	return nil
}

// DeleteCollection implements store.Writer.
func (db *DB) DeleteCollection(ctx context.Context, id string) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM collections WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete collection: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("collection %q: %w", id, store.ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM items WHERE collection = ?`, id); err != nil {
		return fmt.Errorf("sqlite: delete items of collection: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM item_properties WHERE collection = ?`, id); err != nil {
		return fmt.Errorf("sqlite: delete properties of collection: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM item_hours WHERE collection = ?`, id); err != nil {
		return fmt.Errorf("sqlite: delete the datetime histogram of collection: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	db.forgetCollection(id)
	return nil
}
