//go:build !gdal

package app

import (
	"log/slog"

	"github.com/tessera-geo/tessera/internal/raster"
	"github.com/tessera-geo/tessera/internal/tiles"
)

// newRasterReader returns no reader: this binary was built without GDAL
// (no -tags gdal), so the tiles role is disabled.
func newRasterReader(_ tiles.Config, log *slog.Logger) (raster.Reader, func() error, error) {
	log.Warn("raster tiles disabled: this binary was built without GDAL (build with -tags gdal)")
	return nil, nil, nil
}
