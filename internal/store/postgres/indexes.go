package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tessera-geo/tessera/internal/cql2/cql2sql"
	"github.com/tessera-geo/tessera/internal/store"
)

// indexDDL is the CREATE INDEX statement of an indexed property: an
// expression index on exactly what compiled filters compare (see
// cql2sql.Postgres.IndexExpr), so the planner uses it for them.
func indexDDL(p store.IndexedProperty) (string, error) {
	expr, err := (&cql2sql.Postgres{Alias: "items"}).IndexExpr(p.Name, p.Kind)
	if err != nil {
		return "", fmt.Errorf("postgres: indexed property %q: %w", p.Name, err)
	}
	h := sha256.Sum256([]byte(p.Kind + "\x00" + p.Name))
	name := "items_prop_" + hex.EncodeToString(h[:8])
	return fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON items (%s)", name, expr), nil
}

// EnsureIndexes creates the expression indexes of props that do not exist
// yet (tessera migrate does this for --index-property); it is safe to run
// from several processes at once. Building one reads every item: on a
// large catalog it takes minutes and blocks writes.
func EnsureIndexes(ctx context.Context, dsn string, props []store.IndexedProperty) error {
	if len(props) == 0 {
		return nil
	}
	// Under the migration lock: replicas starting together would race on
	// the index names otherwise.
	return underMigrationLock(ctx, dsn, func(ctx context.Context, conn *pgx.Conn) error {
		for _, p := range props {
			ddl, err := indexDDL(p)
			if err != nil {
				return err
			}
			if _, err := conn.Exec(ctx, ddl); err != nil {
				return fmt.Errorf("postgres: index property %q: %w", p.Name, err)
			}
		}
		return nil
	})
}
