package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/tessera-geo/tessera/internal/store"
)

// testSearchRegistry: registered searches (store.SearchRegistry, a
// capability) are kept by id, byte for byte; registering an id again
// replaces its document; an unknown id is ErrNotFound.
func testSearchRegistry(t *testing.T, s store.Store) {
	reg, ok := s.(store.SearchRegistry)
	if !ok {
		t.Skip("the store keeps no registered searches")
	}
	ctx := context.Background()
	if _, err := reg.RegisteredSearch(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown search: %v", err)
	}
	docs := map[string]string{
		"h1": `{"search":{"collections":["a"]}}`,
		"h2": `{"search":{"collections":["b"],"filter":{"op":"=","args":[{"property":"id"},"x"]}},"metadata":{"name":"ü"}}`,
	}
	for id, doc := range docs {
		if err := reg.RegisterSearch(ctx, id, []byte(`{"stale":true}`)); err != nil {
			t.Fatal(err)
		}
		if err := reg.RegisterSearch(ctx, id, []byte(doc)); err != nil {
			t.Fatal(err)
		}
	}
	for id, doc := range docs {
		got, err := reg.RegisteredSearch(ctx, id)
		if err != nil || string(got) != doc {
			t.Errorf("%s: %s, %v; want %s", id, got, err, doc)
		}
	}
}
