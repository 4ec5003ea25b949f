package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/tessera-geo/tessera/internal/store"
	"github.com/tessera-geo/tessera/internal/store/sqlite"
)

func TestRegisteredSearches(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cat.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.RegisteredSearch(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing search: %v", err)
	}
	for _, doc := range []string{`{"collections":["a"]}`, `{"collections":["a"],"metadata":{"name":"x"}}`} {
		if err := db.RegisterSearch(ctx, "h1", []byte(doc)); err != nil {
			t.Fatal(err)
		}
	}
	_ = db.Close()
	// persisted across a reopen
	db, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.RegisteredSearch(ctx, "h1")
	if err != nil || string(got) != `{"collections":["a"],"metadata":{"name":"x"}}` {
		t.Fatalf("got %s, %v", got, err)
	}
}
