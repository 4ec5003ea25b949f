package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tessera-geo/tessera/internal/store"
)

// Options tune a store. The zero value is a good default.
type Options struct {
	// ReadDSN, when set, is where searches and reads go (e.g. a streaming
	// replica); writes always go to the DSN given to Open.
	ReadDSN string
	// MaxConns bounds each pool (default 4 × GOMAXPROCS, at least 8; a
	// pool_max_conns parameter in the DSN wins).
	MaxConns int32
	// StatementTimeout cancels statements that run longer (default 30s;
	// negative disables; a statement_timeout parameter in the DSN wins).
	StatementTimeout time.Duration
	// WriteRetries is how often a write transaction that failed with a
	// serialization failure, a deadlock or a connection error before
	// anything was sent is tried again (default 5; negative disables).
	WriteRetries int
}

func (o *Options) defaults() {
	if o.MaxConns <= 0 {
		o.MaxConns = int32(max(8, 4*runtime.GOMAXPROCS(0)))
	}
	if o.StatementTimeout == 0 {
		o.StatementTimeout = 30 * time.Second
	}
	if o.WriteRetries == 0 {
		o.WriteRetries = 5
	}
}

// DB is a catalog store in a PostgreSQL database.
type DB struct {
	w, r    *pgxpool.Pool // r == w without a ReadDSN
	retries int
	// maxSpan is a lower bound of tessera_meta.max_span_us (it only grows):
	// writers skip updating it when their items are not longer.
	maxSpan atomic.Int64
	// spanRead is when maxSpan was last read from the database (unix ns).
	spanRead atomic.Int64
}

// raiseSpan raises maxSpan to span (µs) when it is longer.
func (db *DB) raiseSpan(span int64) {
	for {
		cur := db.maxSpan.Load()
		if span <= cur || db.maxSpan.CompareAndSwap(cur, span) {
			return
		}
	}
}

// Open connects to the database at dsn (a postgres:// URL or key=value
// string; PG* environment variables fill in what it leaves out). The
// schema must be at the current version: see Migrate.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	opts.defaults()
	w, err := newPool(ctx, dsn, opts, false)
	if err != nil {
		return nil, err
	}
	db := &DB{w: w, r: w, retries: max(opts.WriteRetries, 0)}
	have, err := schemaVersion(ctx, w)
	if err != nil {
		w.Close()
		return nil, err
	}
	if want := SchemaVersion(); have != want {
		w.Close()
		if have > want {
			return nil, fmt.Errorf("postgres: the database schema is at version %d, newer than this tessera (version %d): upgrade tessera", have, want)
		}
		return nil, fmt.Errorf("postgres: the database schema is at version %d, this tessera needs version %d: run \"tessera migrate --store URL\"", have, want)
	}
	var span, filled int64
	if err := w.QueryRow(ctx, `SELECT (SELECT value FROM tessera_meta WHERE key = 'max_span_us'),
		(SELECT value FROM tessera_meta WHERE key = 'backfill_v2')`).Scan(&span, &filled); err != nil {
		w.Close()
		return nil, fmt.Errorf("postgres: read meta: %w", err)
	}
	if filled != 1 {
		w.Close()
		return nil, errors.New(`postgres: the items written before schema version 2 are not indexed for free text yet: run "tessera migrate --store URL" (again)`)
	}
	db.maxSpan.Store(span)
	db.spanRead.Store(time.Now().UnixNano())
	if opts.ReadDSN != "" {
		if db.r, err = newPool(ctx, opts.ReadDSN, opts, true); err != nil {
			w.Close()
			return nil, err
		}
	}
	return db, nil
}

func newPool(ctx context.Context, dsn string, opts Options, readOnly bool) (*pgxpool.Pool, error) {
	what := "database"
	if readOnly {
		what = "read database"
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", what, err)
	}
	if !hasParam(dsn, "pool_max_conns") {
		cfg.MaxConns = opts.MaxConns
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.MaxConnLifetime = time.Hour
	cfg.MaxConnLifetimeJitter = 5 * time.Minute
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	rp := cfg.ConnConfig.RuntimeParams
	if _, ok := rp["statement_timeout"]; !ok && opts.StatementTimeout > 0 {
		rp["statement_timeout"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
	}
	if _, ok := rp["application_name"]; !ok {
		rp["application_name"] = "tessera"
	}
	// Plans depend on the query box and the partitions a query touches:
	// generic plans of cached statements would be poor for both.
	if _, ok := rp["plan_cache_mode"]; !ok {
		rp["plan_cache_mode"] = "force_custom_plan"
	}
	// Searches read a page of rows: starting parallel workers (each loads
	// PostGIS afresh) or JIT-compiling costs more than the whole query.
	if _, ok := rp["max_parallel_workers_per_gather"]; !ok {
		rp["max_parallel_workers_per_gather"] = "0"
	}
	if _, ok := rp["jit"]; !ok {
		rp["jit"] = "off"
	}
	// A batch is copied into a temp table first: keep it in memory
	// (temp_buffers is allocated only as used).
	if _, ok := rp["temp_buffers"]; !ok && !readOnly {
		rp["temp_buffers"] = "64MB"
	}
	if readOnly {
		rp["default_transaction_read_only"] = "on"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect to the %s: %w", what, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect to the %s: %w", what, err)
	}
	return pool, nil
}

// hasParam reports whether a connection string sets a pgxpool parameter
// (which ParseConfig consumes, so the config cannot tell).
func hasParam(dsn, name string) bool {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return false
	}
	_, ok := cfg.RuntimeParams[name]
	return ok
}

// Close closes the pools.
func (db *DB) Close() error {
	if db.r != db.w {
		db.r.Close()
	}
	db.w.Close()
	return nil
}

// Pool is the primary's connection pool, for tools and tests.
func (db *DB) Pool() *pgxpool.Pool { return db.w }

// inTx runs fn in a transaction on the primary, again (from the start)
// when it fails in a way a retry can cure.
func (db *DB) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := pgx.BeginFunc(ctx, db.w, fn)
		if err == nil || attempt >= db.retries || !retryable(err) {
			return err
		}
		backoff := time.Duration(10<<attempt) * time.Millisecond
		backoff = min(backoff, time.Second)
		backoff += rand.N(backoff)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(backoff):
		}
	}
}

// retryable reports errors after which the transaction was rolled back and
// running it again may succeed.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001", // serialization_failure
			"40P01",                   // deadlock_detected
			"55P03",                   // lock_not_available
			"57P01",                   // admin_shutdown (e.g. a failover)
			"08000", "08003", "08006": // connection exceptions
			return true
		}
		return false
	}
	return pgconn.SafeToRetry(err)
}

// Collection implements store.CollectionReader.
func (db *DB) Collection(ctx context.Context, id string) (store.Record, error) {
	var doc []byte
	err := db.r.QueryRow(ctx, `SELECT doc FROM collections WHERE id = $1`, id).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Record{}, fmt.Errorf("collection %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("postgres: read collection: %w", err)
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
	// One statement, one snapshot: the count agrees with the page.
	rows, err := db.r.Query(ctx, `SELECT id, doc, (SELECT count(*) FROM collections)
		FROM collections WHERE id > $1 ORDER BY id LIMIT $2`, after, q.Limit+1)
	if err != nil {
		return page, fmt.Errorf("postgres: list collections: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var rec store.Record
		if err := rows.Scan(&rec.ID, &rec.Doc, &page.Matched); err != nil {
			return page, fmt.Errorf("postgres: list collections: %w", err)
		}
		page.Collections = append(page.Collections, rec)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("postgres: list collections: %w", err)
	}
	if len(page.Collections) == 0 {
		if err := db.r.QueryRow(ctx, `SELECT count(*) FROM collections`).Scan(&page.Matched); err != nil {
			return page, fmt.Errorf("postgres: count collections: %w", err)
		}
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
	err := db.r.QueryRow(ctx, `SELECT doc FROM items WHERE collection = $1 AND id = $2`, collection, id).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		if _, cerr := db.Collection(ctx, collection); errors.Is(cerr, store.ErrNotFound) {
			return store.Record{}, cerr
		}
		return store.Record{}, fmt.Errorf("item %q in collection %q: %w", id, collection, store.ErrNotFound)
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("postgres: read item: %w", err)
	}
	return store.Record{Collection: collection, ID: id, Doc: doc}, nil
}

var _ store.Store = (*DB)(nil)
