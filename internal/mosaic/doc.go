// Package mosaic combines images of one pixel grid, fed in priority order,
// into a single image (rio-tiler's pixel-selection methods).
//
// A Method is fed one *raster.Image per source with Feed (an image of the
// whole grid) or FeedAt (an image of part of the grid, placed at an
// offset: a source that covers a corner of a tile is read and combined
// over that corner only), and tells with
// Done when further images cannot change the result, so a caller can stop
// reading sources early (the "first" method is done once every pixel is
// filled). Masked pixels (Image.Mask == 0) never contribute.
//
// The package is pure Go and holds no global state; a Method is not safe
// for concurrent use.
package mosaic
