package sqlite

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/tessera-geo/tessera/internal/cql2/cql2sql"
	"github.com/tessera-geo/tessera/internal/store"
)

//go:embed schema.sql
var schema string

// Options tune a store.
type Options struct {
	// ReadConns is the size of the read connection pool (default: 2 × CPUs).
	ReadConns int
	// CacheMB is SQLite's page cache of the writer connection in MiB
	// (default 32); each reader gets a quarter of it (the OS page cache
	// holds the file too).
	CacheMB int
	// Indexed are properties given their own indexed column (filled by
	// the writer with the value when it has the kind, NULL otherwise),
	// used by filters and sorts on them.
	Indexed []store.IndexedProperty
	// RTreeProbeCap is the number of R*Tree candidates from which a spatial
	// search walks the datetime index instead (default
	// defaultRTreeProbeCap; 1 always walks the index).
	RTreeProbeCap int
}

// DB is a catalog store in one SQLite file.
type DB struct {
	w, r     *sql.DB
	path     string
	probeCap int
	indexed  map[string]cql2sql.Column
	// indexedProps are the properties with their own column, in column
	// order for inserts.
	indexedProps []store.IndexedProperty
	// props caches item_properties rows known to be stored
	// (collection + "\x00" + name + "\x00" + type); guarded by the single
	// writer connection's transactions plus mu.
	mu      sync.Mutex
	props   map[string]bool
	maxSpan atomic.Int64 // longest item interval stored, µs (see meta)
}

// Open opens (creating when needed) the catalog at path.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if opts.ReadConns <= 0 {
		opts.ReadConns = 2 * runtime.GOMAXPROCS(0)
	}
	if opts.CacheMB <= 0 {
		opts.CacheMB = 32
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("sqlite: create data dir: %w", err)
		}
	}
	pragmas := []string{"synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(OFF)", "temp_store(MEMORY)"}
	dsn := func(cacheMB int, extra ...string) string {
		v := url.Values{}
		for _, p := range append(pragmas, extra...) {
			v.Add("_pragma", p)
		}
		v.Add("_pragma", fmt.Sprintf("cache_size(-%d)", cacheMB*1024))
		return "file:" + path + "?" + v.Encode()
	}
	w, err := sql.Open("sqlite", dsn(opts.CacheMB)+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	// WAL mode persists in the file. (Pages stay at 4 KiB: with larger ones
	// every page allocation of the pure-Go SQLite is its own mapping, and
	// freeing statement journals then costs a madvise call per page.)
	if _, err := w.ExecContext(ctx, "PRAGMA journal_mode = WAL;"); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// One transaction for the whole schema: each statement committing on
	// its own cost a synchronous commit apiece when the catalog is new.
	if _, err := w.ExecContext(ctx, "BEGIN IMMEDIATE;\n"+schema+"\nCOMMIT;"); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: create schema in %s: %w", path, err)
	}
	if err := upgradeSpatialIndex(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	if err := buildHistogram(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	if err := buildFreeTextIndex(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn(max(opts.CacheMB/4, 2), "query_only(1)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(opts.ReadConns)
	r.SetMaxIdleConns(opts.ReadConns)
	r.SetConnMaxLifetime(0)
	if opts.RTreeProbeCap <= 0 {
		opts.RTreeProbeCap = defaultRTreeProbeCap
	}
	db := &DB{w: w, r: r, path: path, probeCap: opts.RTreeProbeCap}
	var span sql.NullInt64
	if err := w.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'max_span_us'`).Scan(&span); err != nil && !errors.Is(err, sql.ErrNoRows) {
		db.Close()
		return nil, fmt.Errorf("sqlite: read meta: %w", err)
	}
	db.maxSpan.Store(span.Int64)
	if err := db.ensureIndexes(ctx, opts.Indexed); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.loadProperties(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error {
	return errors.Join(db.r.Close(), db.w.Close())
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Collection implements store.CollectionReader.
func (db *DB) Collection(ctx context.Context, id string) (store.Record, error) {
	var doc []byte
	err := db.r.QueryRowContext(ctx, `SELECT doc FROM collections WHERE id = ?`, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Record{}, fmt.Errorf("collection %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("sqlite: read collection: %w", err)
	}
	return store.Record{ID: id, Doc: doc}, nil
}

// Collections implements store.CollectionReader.
func (db *DB) Collections(ctx context.Context, q store.CollectionQuery) (store.CollectionPage, error) {
	if q.Limit <= 0 {
		q.Limit = 10
	}
	var page store.CollectionPage
	after := ""
	if q.Token != "" {
		t, err := decodeCollectionToken(q.Token)
		if err != nil {
			return page, err
		}
		after = t
	}
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM collections`).Scan(&page.Matched); err != nil {
		return page, fmt.Errorf("sqlite: count collections: %w", err)
	}
	rows, err := db.r.QueryContext(ctx, `SELECT id, doc FROM collections WHERE id > ? ORDER BY id LIMIT ?`, after, q.Limit+1)
	if err != nil {
		return page, fmt.Errorf("sqlite: list collections: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var rec store.Record
		if err := rows.Scan(&rec.ID, &rec.Doc); err != nil {
			return page, fmt.Errorf("sqlite: list collections: %w", err)
		}
		page.Collections = append(page.Collections, rec)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("sqlite: list collections: %w", err)
	}
	if len(page.Collections) > q.Limit {
		page.Collections = page.Collections[:q.Limit]
		page.Next = encodeCollectionToken(page.Collections[q.Limit-1].ID)
	}
	return page, nil
}

// Item implements store.ItemReader.
func (db *DB) Item(ctx context.Context, collection, id string) (store.Record, error) {
	var doc []byte
	err := db.r.QueryRowContext(ctx, `SELECT doc FROM items WHERE collection = ? AND id = ?`, collection, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		if _, cerr := db.Collection(ctx, collection); errors.Is(cerr, store.ErrNotFound) {
			return store.Record{}, cerr
		}
		return store.Record{}, fmt.Errorf("item %q in collection %q: %w", id, collection, store.ErrNotFound)
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("sqlite: read item: %w", err)
	}
	return store.Record{Collection: collection, ID: id, Doc: doc}, nil
}

// isConstraint reports a UNIQUE/PRIMARY KEY violation.
func isConstraint(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	c := se.Code()
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

var (
	_ store.Store            = (*DB)(nil)
	_ store.Filterer         = (*DB)(nil)
	_ store.Sorter           = (*DB)(nil)
	_ store.FreeTexter       = (*DB)(nil)
	_ store.PropertiesReader = (*DB)(nil)
)

// upgradeSpatialIndex replaces the 2-D items_rtree of older catalogs with
// items_space_time (schema.sql), filled from the items.
func upgradeSpatialIndex(ctx context.Context, w *sql.DB) error {
	if have, err := hasObject(ctx, w, "items_rtree"); !have || err != nil {
		return err
	}
	_, err := w.ExecContext(ctx, `BEGIN IMMEDIATE;
		DROP TRIGGER IF EXISTS items_rtree_insert;
		DROP TRIGGER IF EXISTS items_rtree_update;
		DROP TRIGGER IF EXISTS items_rtree_delete;
		DROP TABLE items_rtree;
		DELETE FROM items_space_time;
		INSERT INTO items_space_time SELECT rowid,
			CASE WHEN minx > maxx THEN -180 ELSE minx END, CASE WHEN minx > maxx THEN 180 ELSE maxx END,
			miny, maxy, start_datetime / 3153600000000000.0, end_datetime / 3153600000000000.0 FROM items;
		COMMIT;`)
	if err != nil {
		_, _ = w.ExecContext(ctx, `ROLLBACK`)
		return fmt.Errorf("sqlite: convert the spatial index to items_space_time: %w", err)
	}
	return nil
}

// hasObject reports whether the schema holds a table, index or trigger
// named name.
func hasObject(ctx context.Context, w *sql.DB, name string) (bool, error) {
	var n int
	if err := w.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = ?`, name).Scan(&n); err != nil {
		return false, fmt.Errorf("sqlite: read schema: %w", err)
	}
	return n > 0, nil
}
