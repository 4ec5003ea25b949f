//go:build gdal

package gdal

import (
	"context"

	"github.com/airbusgeo/godal"

	"github.com/tessera-geo/tessera/internal/raster"
)

// warmUp reads one Web Mercator tile from a small UTM GeoTIFF in /vsimem
// through the path every tile takes (open, describe, bounds transform,
// overview choice, warper) and discards it. A fresh process spent about
// 45 ms inside its first tile on one-time work: loading PROJ's database and
// GDAL's georeferencing and warping code. New runs this in the background:
// a tile asked for once start-up is over came in 84 ms instead of 124 ms
// (median of 6 fresh processes, docs/benchmarks.md).
// The GeoTIFF is written to name (in /vsimem) and removed after.
func (r *Reader) warmUp(name string) error {
	defer func() { _ = godal.VSIUnlink(name) }()
	if err := writeWarmTIFF(name); err != nil {
		return err
	}
	src := r.newSource(name, name, 1)
	src.init()
	if src.err != nil {
		return src.err
	}
	defer src.evict()
	d := &dataset{src: src}
	ctx := context.Background()
	b, err := d.BoundsIn(ctx, "EPSG:3857")
	if err != nil {
		return err
	}
	img, err := d.ReadWindow(ctx, raster.Window{CRS: "EPSG:3857", Bounds: b, Width: 256, Height: 256})
	if err != nil {
		return err
	}
	img.Release()
	return nil
}

// writeWarmTIFF writes a 64×64 3-band uint16 GeoTIFF in UTM zone 31N.
func writeWarmTIFF(name string) error {
	ds, err := godal.Create(godal.GTiff, name, 3, godal.UInt16, 64, 64, godal.SkipWarnings)
	if err != nil {
		return err
	}
	sr, err := godal.NewSpatialRefFromEPSG(32631)
	if err != nil {
		_ = ds.Close(godal.SkipWarnings)
		return err
	}
	defer sr.Close()
	err = ds.SetSpatialRef(sr, godal.SkipWarnings)
	if err == nil {
		err = ds.SetGeoTransform([6]float64{400000, 10, 0, 5000000, 0, -10}, godal.SkipWarnings)
	}
	if cerr := ds.Close(godal.SkipWarnings); err == nil {
		err = cerr
	}
	return err
}
