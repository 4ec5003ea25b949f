// Package postgres is the catalog store for scale: PostgreSQL 15+ with
// PostGIS 3, through a pgx connection pool.
//
// Schema (migrations/*.sql, applied by Migrate under an advisory lock):
// collections(id, content jsonb, doc text) and items LIST-partitioned by
// collection, one partition per collection (created with the collection,
// dropped with it), with the effective time interval in
// start_datetime/end_datetime, the geometry as geometry(Geometry, 4326)
// under a GiST index on (geometry, start_datetime) (btree_gist: a bbox and
// datetime search scans only what is inside both), a B-tree in result order (start_datetime DESC,
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
// Writes: the items of a batch that are not stored yet (one primary-key
// probe each) are copied (COPY) straight into items; the others are copied
// into a session temp table, then moved into items with one INSERT ... ON
// CONFLICT DO UPDATE (Upsert), INSERT ... ON CONFLICT DO NOTHING (Create)
// or UPDATE ... FROM (Replace). Rows over half a page are compressed in
// place (lz4, toast_tuple_target = 4080). All in one transaction that
// also holds the batch's collections FOR SHARE (so they cannot be deleted
// under it). Per-item outcomes match the SQLite store.
// Serialization failures and deadlocks are retried.
//
// Concurrency: DB is safe for concurrent use. Reads go to Options.ReadDSN
// when set (e.g. a streaming replica: searches may then lag writes by the
// replication delay), else to the primary.
//
// Capabilities (as the SQLite store, same contract suite; the differential
// test compares result lists and orders with it):
//   - store.Filterer: q.Filter compiles with cql2sql.Postgres{PropertiesOnly:
//     true} (content holds only the properties; id, collection and geometry
//     are columns) into the WHERE list; spatial predicates are exact PostGIS
//     calls. When the clause is not exact, rows are read in growing keyset
//     batches and kept when cql2.Evaluate accepts their document.
//   - store.Sorter: q.SortBy with keyset pagination under any order. A
//     property sorts by a type rank (missing/null, then numbers and
//     booleans, then text: SQLite's order), its number, then its text
//     COLLATE "C"; every key is NOT NULL, so pages continue with one row
//     comparison (or an OR chain for mixed directions). Tokens carry a
//     signature of their order and are refused for another one.
//   - store.FreeTexter: search_text holds the words of id, collection,
//     title, description and keywords (search.Words, computed by the
//     writer), so a phrase matches exactly as search.FreeText.Matches says;
//     a GIN index on its word array finds the candidates.
//   - store.Aggregator: one GROUP BY statement per aggregation in one
//     snapshot when the search is exact in SQL, else counting in Go over
//     the rows the residual filter keeps; grids count the bbox centre
//     (bbox_cx, bbox_cy).
//   - store.PropertiesReader: item_properties(collection, name, type),
//     added to in each write transaction, dropped with the collection.
//
// Schema version 2 adds search_text, bbox_cx and bbox_cy; Migrate fills
// them in for items written before (in Go, from the documents) and Open
// refuses a database where that is not done.
package postgres
