package app

import (
	"context"
	"net/http"

	"github.com/tessera-geo/tessera/internal/auth"
	"github.com/tessera-geo/tessera/internal/raster"
	"github.com/tessera-geo/tessera/internal/store"
	"github.com/tessera-geo/tessera/internal/tiles"
)

// rasterReader configures the tile server and opens its raster reader when
// this build has one (GDAL builds: -tags gdal; reader is nil otherwise).
// New calls it first, so that GDAL's start-up warm-up overlaps opening the
// store.
func (a *App) rasterReader() (tiles.Config, raster.Reader, error) {
	cfg := tiles.Defaults()
	cfg.BaseURL = a.cfg.BaseURL
	cfg.AllowLocal = a.cfg.TilesAllowLocal
	cfg.LocalRoots = a.cfg.TilesLocalRoots
	cfg.AllowedHosts = a.cfg.TilesAllowedHosts
	cfg.AllowedBuckets = a.cfg.TilesAllowedBuckets
	s3, err := a.cfg.S3()
	if err != nil {
		return cfg, nil, err
	}
	cfg.S3Endpoint, cfg.S3UseHTTPS = s3.Host, s3.HTTPS
	if cfg.GDALOptions, err = a.cfg.GDALOptions(); err != nil {
		return cfg, nil, err
	}
	for _, v := range []struct {
		dst *int
		n   int
	}{{&cfg.CacheMaxMB, a.cfg.TilesGDALCacheMB}, {&cfg.MaxSources, a.cfg.TilesMaxSources},
		{&cfg.HandlesPerSource, a.cfg.TilesHandlesPerSource}, {&cfg.LocalHandlesPerSource, a.cfg.TilesLocalHandles},
		{&cfg.WarpCacheMB, a.cfg.TilesWarpCacheMB}} {
		if v.n > 0 {
			*v.dst = v.n
		}
	}
	if a.cfg.TilesCacheControl != "" {
		cfg.CacheControl = a.cfg.TilesCacheControl
	}
	if err := cfg.Validate(); err != nil {
		return cfg, nil, err
	}
	reader, closer, err := newRasterReader(cfg, a.log)
	if err != nil || reader == nil {
		return cfg, nil, err
	}
	a.closers = append(a.closers, closer)
	return cfg, reader, nil
}

// registerTiles mounts the tile server over reader (nothing when nil).
func (a *App) registerTiles(mux *http.ServeMux, cfg tiles.Config, reader raster.Reader) error {
	if reader == nil {
		return nil
	}
	// Tiles read the catalog as the request's principal sees it, and
	// cache per-tile mosaic searches per restriction.
	view := auth.NewStore(a.store)
	deps := tiles.Deps{Log: a.log, Reader: reader, Items: storeItems{view}, Finder: tiles.StoreFinder{Searcher: view}, Partition: auth.CacheKey}
	if reg, ok := a.store.(store.SearchRegistry); ok {
		deps.Searches = reg
	}
	srv, err := tiles.New(cfg, deps)
	if err != nil {
		return err
	}
	srv.Register(mux)
	return nil
}

// storeItems gives the tile server the catalog's items.
type storeItems struct{ st store.ItemReader }

func (s storeItems) Item(ctx context.Context, collection, id string) ([]byte, error) {
	rec, err := s.st.Item(ctx, collection, id)
	return rec.Doc, err
}
