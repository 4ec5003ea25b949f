// Package raster is the pure-Go face of raster I/O: the Reader/Dataset
// interfaces that the tiler (and the mosaic stage) program against, the
// Window that describes a target pixel grid, and the Image that a read
// returns (bands as float64 planes plus a validity mask).
//
// The only implementation lives in raster/gdal (cgo, build tag "gdal").
// Everything here builds with CGO_ENABLED=0 and imports no HTTP package.
//
// Concurrency: a Reader and the Datasets it returns are safe for concurrent
// use; ReadWindow on one Dataset from many goroutines is the expected way to
// read many tiles, and reading many Datasets into the same Window
// concurrently is how a mosaic fills one tile.
package raster
