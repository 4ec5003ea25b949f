// Package postgres is the catalog store for scale: PostgreSQL 15+ with
// PostGIS 3, through a pgx connection pool.
//
// Schema (migrations/*.sql, applied by Migrate under an advisory lock):
// collections(id, content jsonb, doc text) and items LIST-partitioned by
// collection, one partition per collection (created with the collection,
// dropped with it), with the effective time interval in
// start_datetime/end_datetime, the geometry as geometry(Geometry, 4326)
// under a GiST index, a B-tree in result order (start_datetime DESC,
// id DESC, collection DESC), what filters read as jsonb (content:
// {"properties": {...}}; id, collection and geometry are columns) and the
// canonical document byte for byte for output (doc). Identifiers are
// COLLATE "C", so results come out in the same order as from the SQLite
// store.
//
// Searches are exact in SQL: ST_Intersects against the query geometry (a
// bbox that crosses the antimeridian is two envelopes) and the datetime
// overlap start_datetime <= end AND end_datetime >= start, bounded for the
// index by the longest item interval stored (tessera_meta.max_span_us).
// Pages continue after the last sort key (keyset), so a walk never skips
// or repeats an item that existed when it started.
//
// Writes: a batch is copied (COPY) into a session temp table, then moved
// into items with one INSERT ... ON CONFLICT DO UPDATE (Upsert), INSERT ...
// ON CONFLICT DO NOTHING (Create) or UPDATE ... FROM (Replace), in one
// transaction that also holds the batch's collections FOR SHARE (so they
// cannot be deleted under it). Per-item outcomes match the SQLite store.
// Serialization failures and deadlocks are retried.
//
// Concurrency: DB is safe for concurrent use. Reads go to Options.ReadDSN
// when set (e.g. a streaming replica: searches may then lag writes by the
// replication delay), else to the primary.
//
// CQL2: the store does not implement store.Filterer yet, so the API sends
// it no filters (Search refuses one). To add it, compile q.Filter with
// cql2sql.Postgres{Alias: "i", ArgOffset: len(args)} in compile (search.go,
// marked "CQL2") and AND the clause into the WHERE list; when the clause is
// not Exact, rows need cql2.Evaluate as well.
package postgres
