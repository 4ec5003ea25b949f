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
		// Filters and sorts on these use generated columns and indexes.
		"indexed properties": {Indexed: []sqlite.IndexedProperty{
			{Name: "s2:vegetation_percentage", Kind: "number"}, {Name: "platform", Kind: "text"},
			{Name: "eo:cloud_cover", Kind: "number"}, {Name: "title", Kind: "text"},
		}},
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
