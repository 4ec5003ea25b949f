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
// New), never from an init function.
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
// for the call). Warps write into a fresh MEM dataset owned by that call, and
// coordinate transformations are created per call, so no GDAL object other
// than pooled dataset handles is ever shared.
//
// Errors: GDAL warnings are ignored; failures are captured per call (godal's
// error handler) and returned as *raster.Error carrying GDAL's message.
package gdal
