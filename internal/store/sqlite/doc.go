// Package sqlite is the embedded catalog store: one SQLite file in WAL mode
// (pure Go, modernc.org/sqlite), items as canonical JSON with their indexed
// fields in columns, an R*Tree over item bounding boxes kept in step by
// triggers, and B-tree indexes on (collection, datetime).
//
// Concurrency: one writer connection (SQLite allows one writer at a time;
// transactions start IMMEDIATE so writers queue instead of failing) and a
// pool of read-only connections, which WAL lets run beside the writer.
//
// Spatial searches run the R*Tree first (SQLite's planner would otherwise
// probe it row by row) and finish with an exact geometry test in Go, since
// R*Tree bounds are float32 boxes.
package sqlite
