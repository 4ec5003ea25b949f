package app

import (
	"context"
	"errors"

	"github.com/tessera-geo/tessera/internal/config"
	"github.com/tessera-geo/tessera/internal/store"
	"github.com/tessera-geo/tessera/internal/store/sqlite"
)

// OpenStore opens the catalog store the configuration names.
func OpenStore(ctx context.Context, c config.Common) (store.Store, error) {
	kind, loc, err := c.ParseStore()
	if err != nil {
		return nil, err
	}
	switch kind {
	case config.StorePostgres:
		return nil, errors.New("the PostgreSQL store is not available in this build yet; use the embedded SQLite store (omit --store)")
	default:
		return sqlite.Open(ctx, loc, sqlite.Options{})
	}
}
