package app

import (
	"context"
	"net/http"

	"github.com/tessera-geo/tessera/internal/auth"
	"github.com/tessera-geo/tessera/internal/store"
	"github.com/tessera-geo/tessera/internal/tiles"
)

// registerTiles mounts the tile server when this build has a raster reader
// (GDAL builds: -tags gdal).
func (a *App) registerTiles(mux *http.ServeMux) error {
	cfg := tiles.Defaults()
	cfg.BaseURL = a.cfg.BaseURL
	cfg.AllowLocal = a.cfg.TilesAllowLocal
	cfg.LocalRoots = a.cfg.TilesLocalRoots
	cfg.AllowedHosts = a.cfg.TilesAllowedHosts
	cfg.AllowedBuckets = a.cfg.TilesAllowedBuckets
	s3, err := a.cfg.S3()
	if err != nil {
		return err
	}
	cfg.S3Endpoint, cfg.S3UseHTTPS = s3.Host, s3.HTTPS
	if err := cfg.Validate(); err != nil {
		return err
	}
	reader, closer, err := newRasterReader(cfg, a.log)
	if err != nil || reader == nil {
		return err
	}
	a.closers = append(a.closers, closer)
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
