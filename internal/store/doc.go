// Package store defines the catalog storage interfaces, their sentinel
// errors and the records they return. Implementations live in
// sub-packages (sqlite, postgres) and all pass the storetest contract suite.
//
// A store never builds URLs or links: it returns canonical documents and an
// opaque pagination token. Optional features (aggregation, free text, ...)
// are capability interfaces discovered by type assertion.
//
// Concurrency: every method is safe for concurrent use by many goroutines.
// Documents returned in Records are owned by the caller.
package store
