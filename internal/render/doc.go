// Package render turns raster.Images into what a tile client receives:
// band expressions (a small, safe expression language), algorithms
// (hillshade, normalizedIndex, terrainrgb, terrarium), rescaling, colormaps,
// statistics, and encoders (PNG, JPEG, GeoTIFF, NPY). It is pure Go: WebP is
// encoded by an optional raster.ImageEncoder (GDAL's WEBP driver).
//
// Every stage is a plain function over *raster.Image so the tiler, the
// mosaic stage and tests compose them freely.
package render
