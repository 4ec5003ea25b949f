// Package loader bulk-loads STAC collections and items from files into a
// store: single documents, FeatureCollections/ItemCollections, JSON arrays,
// newline-delimited JSON and directories of them. Records are decoded on
// every core and written in batched transactions with upsert semantics.
// A bad record is reported and skipped; loading never stops at the first.
package loader
