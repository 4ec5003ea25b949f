// Package tiles is the dynamic raster tile server (titiler's endpoints and
// parameters) for single COGs (/cog?url=...) and STAC items
// (/collections/{cid}/items/{iid}?assets=...).
//
// A request goes through reusable stages, each a plain function, so the
// mosaic issue can feed searches through the same code:
//
//	parse (renderParams, tile/window) → read (raster.Reader, one goroutine per
//	asset) → combine (assets → one image) → post (expression, algorithm) →
//	render (rescale, colormap, encode)
//
// Stage timings are reported in Server-Timing (read, mosaic, post, encode).
// Errors are typed and written once by httpx.WriteError.
package tiles
