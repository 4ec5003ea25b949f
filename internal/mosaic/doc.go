// Package mosaic combines images of one pixel grid, fed in priority order,
// into a single image (rio-tiler's pixel-selection methods).
//
// A Method is fed one *raster.Image per source with Feed and tells with
// Done when further images cannot change the result, so a caller can stop
// reading sources early (the "first" method is done once every pixel is
// filled). Masked pixels (Image.Mask == 0) never contribute.
//
// The package is pure Go and holds no global state; a Method is not safe
// for concurrent use.
package mosaic
