//go:build gdal

// Package gdal implements raster.Reader with GDAL (through godal). It is the
// only package of tessera that uses cgo, and it builds only with the "gdal"
// build tag.
//
// # Process-global state
//
// GDAL keeps its driver registry and its CPL configuration (GDAL_CACHEMAX,
// VSI_CACHE, GDAL_DISABLE_READDIR_ON_OPEN, the /vsis3 endpoint, ...) per
// process. Configure sets them; it is called once, by internal/app (through
// New), never from an init function. New configures GDAL in the background
// and then warms it up (warm.go: one tile of a small GeoTIFF in /vsimem,
// which loads PROJ's database and pages in the open and warp code), so that
// this one-time work overlaps the rest of the process's start-up; every
// Reader entry point waits until GDAL is configured.
//
// # Thread model
//
// GDAL 3.6 dataset handles are not thread-safe (thread-safe datasets arrive
// in GDAL 3.10), so the Reader keeps, for every source href:
//
//   - a pool of at most Config.HandlesPerSource open GDAL handles
//     (Config.LocalHandlesPerSource, default GOMAXPROCS, for local files); a
//     goroutine takes one handle for the duration of one operation (a warp
//     into a window, a point read) and gives it back; a goroutine that finds
//     every handle busy waits, honouring its context;
//   - the source's Info, read once when the first handle is opened.
//
// Sources live in an LRU of at most Config.MaxSources entries. Evicting a
// source closes its idle handles at once and its busy handles when they are
// given back, so a handle is never closed under a goroutine using it.
//
// Every GDAL call runs on the calling goroutine (cgo pins it to its OS thread
// for the call). A pooled handle carries the warp machinery built on it
// (warp.go): overview datasets opened on demand and, per destination CRS,
// window size, resampling and nodata, a transformer, a GDALWarpOperation
// and a MEM destination dataset, reused from window to window (only the
// destination geotransform changes); at most 8 per handle, and at most
// Config.WarpCacheMB of destination buffers over the Reader (beyond it a
// warp set-up is built, used once and freed). They belong to the handle, so they
// are used by one goroutine at a time like the handle itself, possibly
// from different OS threads in turn (GDAL's coordinate transformations
// take the calling thread's PROJ context). Bounds and point
// transformations are created per call.
//
// Errors: GDAL warnings are ignored; failures are captured per call (godal's
// error handler, or a quiet CPL handler pushed around the warp calls) and
// returned as *raster.Error carrying GDAL's message.
package gdal
