package app

import (
	"context"
	"fmt"

	"github.com/tessera-geo/tessera/internal/config"
	"github.com/tessera-geo/tessera/internal/store"
	"github.com/tessera-geo/tessera/internal/store/postgres"
	"github.com/tessera-geo/tessera/internal/store/sqlite"
)

// OpenStore opens the catalog store the configuration names. A PostgreSQL
// URL may leave out what the standard PG* variables (PGHOST, PGUSER,
// PGPASSWORD, ...) provide: --store postgres:// uses them alone.
func OpenStore(ctx context.Context, c config.Common) (store.Store, error) {
	kind, loc, err := c.ParseStore()
	if err != nil {
		return nil, err
	}
	switch kind {
	case config.StorePostgres:
		return postgres.Open(ctx, loc, postgres.Options{})
	default:
		idx, err := store.ParseIndexed(c.IndexProperties)
		if err != nil {
			return nil, err
		}
		return sqlite.Open(ctx, loc, sqlite.Options{Indexed: idx})
	}
}

// MigrateStore creates or upgrades the schema of the configured store and
// describes what it did. Only PostgreSQL has versioned migrations; the
// SQLite store creates its schema when it is opened.
func MigrateStore(ctx context.Context, c config.Common) (string, error) {
	kind, loc, err := c.ParseStore()
	if err != nil {
		return "", err
	}
	if kind != config.StorePostgres {
		return "the SQLite store needs no migration: it creates its schema when opened", nil
	}
	idx, err := store.ParseIndexed(c.IndexProperties)
	if err != nil {
		return "", err
	}
	if err := postgres.Migrate(ctx, loc); err != nil {
		return "", err
	}
	if err := postgres.EnsureIndexes(ctx, loc, idx); err != nil {
		return "", err
	}
	return fmt.Sprintf("the PostgreSQL catalog schema is at version %d; %d properties indexed (--index-property)",
		postgres.SchemaVersion(), len(idx)), nil
}
