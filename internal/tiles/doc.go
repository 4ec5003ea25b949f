// Package tiles is the dynamic raster tile server (titiler's endpoints and
// parameters) for single COGs (/cog?url=...), STAC items
// (/collections/{cid}/items/{iid}?assets=...), and mosaics of registered
// searches (/searches/{id}/...) and whole collections (/collections/{cid}/...),
// titiler-pgstac's.
//
// A request goes through reusable stages, each a plain function:
//
//	parse (renderParams, tile/window) → read (raster.Reader, one goroutine per
//	asset) → combine (assets → one image) → post (expression, algorithm) →
//	render (rescale, colormap, encode)
//
// A mosaic adds a search before the read (ItemFinder, per window, cached)
// and a pixel-selection method (package mosaic) as the combine stage across
// items. The image routes (preview, bbox, feature, statistics) are written
// once over an imageSource: one target, or a mosaic.
//
// Stage timings are reported in Server-Timing (read, mosaic, post, encode).
// Errors are typed and written once by httpx.WriteError.
package tiles
