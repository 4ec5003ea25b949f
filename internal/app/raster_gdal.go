//go:build gdal

package app

import (
	"log/slog"

	"github.com/tessera-geo/tessera/internal/raster"
	"github.com/tessera-geo/tessera/internal/raster/gdal"
	"github.com/tessera-geo/tessera/internal/tiles"
)

// newRasterReader configures GDAL (process-global: drivers and CPL options,
// set here once) and returns the pooled GDAL reader with its closer.
func newRasterReader(cfg tiles.Config, log *slog.Logger) (raster.Reader, func() error, error) {
	r, err := gdal.New(gdal.Config{
		MaxSources:            cfg.MaxSources,
		HandlesPerSource:      cfg.HandlesPerSource,
		LocalHandlesPerSource: cfg.LocalHandlesPerSource,
		CacheMaxMB:            cfg.CacheMaxMB,
		WarpCacheMB:           cfg.WarpCacheMB,
		S3Endpoint:            cfg.S3Endpoint,
		S3Region:              cfg.S3Region,
		S3UseHTTPS:            cfg.S3UseHTTPS,
		S3VirtualHosting:      cfg.S3VirtualHosting,
		S3NoSign:              cfg.S3NoSign,
		Options:               cfg.GDALOptions,
	}, log)
	if err != nil {
		return nil, nil, err
	}
	log.Info("raster tiles enabled", "gdal", gdal.Version())
	return r, r.Close, nil
}
