package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tessera-geo/tessera/internal/store"
	"github.com/tessera-geo/tessera/internal/store/sqlite"
	"github.com/tessera-geo/tessera/internal/store/storetest"
)

func TestContract(t *testing.T) {
	for name, opts := range map[string]sqlite.Options{
		"rtree plan": {},
		// Every spatial search walks the datetime index instead.
		"index plan": {RTreeProbeCap: 1},
	} {
		t.Run(name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Store {
				db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "catalog.db"), opts)
				if err != nil {
					t.Fatal(err)
				}
				return db
			})
		})
	}
}
