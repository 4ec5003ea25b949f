// Package stac holds the STAC domain types (Item, Collection, Link) and the
// one validated write path every writer uses: DecodeItem and
// DecodeCollection check the required fields and the GeoJSON geometry,
// compute a missing bbox, strip hierarchy links and maintain
// created/updated. The package does no I/O.
//
// Documents are kept as canonical JSON bytes (Item.Doc): the members in a
// fixed order with "links" last, so readers can splice generated links in
// without decoding the document again.
package stac
