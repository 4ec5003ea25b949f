package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/tessera-geo/tessera/internal/cql2"
	"github.com/tessera-geo/tessera/internal/geo"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/stac"

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
		"indexed properties": {Indexed: []store.IndexedProperty{
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

// olderCatalog makes a catalog holding item it (in collection "c"), then
// runs ddl on it directly, as an older tessera would have left it, and
// reopens it: the store upgrades what ddl made old.
func olderCatalog(t *testing.T, it stac.Item, ddl string) *sqlite.DB {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutCollection(ctx, storetest.Collection(t, "c"), store.Upsert); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutItems(ctx, []stac.Item{it}, store.Upsert); err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(ddl); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestSpatialIndexUpgrade opens a catalog with the older 2-D R*Tree
// (items_rtree and its triggers): it is replaced by items_space_time,
// filled from the items, and bbox + datetime searches find them.
func TestSpatialIndexUpgrade(t *testing.T) {
	ctx := context.Background()
	it := storetest.Item(t, storetest.ItemSpec{Collection: "c", ID: "x", Datetime: ptrTime()})
	db := olderCatalog(t, it, `DROP TABLE items_space_time;
		CREATE VIRTUAL TABLE items_rtree USING rtree (id, minx, maxx, miny, maxy);
		INSERT INTO items_rtree SELECT rowid, minx, maxx, miny, maxy FROM items;
		CREATE TRIGGER items_rtree_delete AFTER DELETE ON items BEGIN DELETE FROM items_rtree WHERE id = old.rowid; END;`)
	t0, t1 := ptrTime().Add(-time.Hour), ptrTime().Add(time.Hour)
	q := search.Query{BBox: &it.BBox, Datetime: &search.Interval{Start: &t0, End: &t1}, Limit: 10}
	page, err := db.Search(ctx, q)
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("after upgrade: %v %v", page.Items, err)
	}
	// The old triggers are gone: deleting writes to the new index only.
	if err := db.DeleteItem(ctx, "c", "x"); err != nil {
		t.Fatal(err)
	}
	if page, err := db.Search(ctx, q); err != nil || len(page.Items) != 0 {
		t.Fatalf("after delete: %v %v", page.Items, err)
	}
}

// TestFreeTextIndexUpgrade opens a catalog whose free-text index has an
// older layout: it is rebuilt from the items.
func TestFreeTextIndexUpgrade(t *testing.T) {
	it := storetest.Item(t, storetest.ItemSpec{Collection: "c", ID: "x", Datetime: ptrTime(), Props: map[string]any{"title": "Glacier retreat"}})
	db := olderCatalog(t, it, `DROP TABLE items_fts; CREATE VIRTUAL TABLE items_fts USING fts5(id, collection, title, description, keywords, content='');
		UPDATE meta SET value = 1 WHERE key = 'fts_version'`)
	ft, _ := search.ParseFreeText("glacier")
	page, err := db.Search(context.Background(), search.Query{Q: ft, Limit: 10})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("after upgrade: %v %v", page.Items, err)
	}
}

func ptrTime() *time.Time { t := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC); return &t }

// TestIndexedPropertyBackfill indexes a property of a catalog that already
// holds items: the new column is filled from the documents.
func TestIndexedPropertyBackfill(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutCollection(ctx, storetest.Collection(t, "c"), store.Upsert); err != nil {
		t.Fatal(err)
	}
	var items []stac.Item
	for i, cc := range []any{5.0, 50.0, "7", nil} {
		items = append(items, storetest.Item(t, storetest.ItemSpec{Collection: "c", ID: fmt.Sprint("i", i), Datetime: ptrTime(),
			Props: map[string]any{"eo:cloud_cover": cc}}))
	}
	if _, err := db.PutItems(ctx, items, store.Upsert); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = sqlite.Open(ctx, path, sqlite.Options{Indexed: []store.IndexedProperty{{Name: "eo:cloud_cover", Kind: "number"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for text, want := range map[string]int{`"eo:cloud_cover" < 10`: 1, `"eo:cloud_cover" >= 5`: 2, `"eo:cloud_cover" IS NULL`: 1} {
		e, _ := cql2.ParseText(text)
		page, err := db.Search(ctx, search.Query{Filter: e, Limit: 10})
		if err != nil || len(page.Items) != want {
			t.Errorf("%s: %d items (%v), want %d", text, len(page.Items), err, want)
		}
	}
}

// TestHistogramFollowsWrites checks that the hourly counts behind
// whole-collection datetime_frequency aggregations stay equal to counting
// the items (the path a bbox takes) through inserts, datetime changes,
// deletes and a deleted collection, and that older catalogs get them.
func TestHistogramFollowsWrites(t *testing.T) {
	ctx := context.Background()
	at := func(y, m int) *time.Time { v := time.Date(2020+y, time.Month(m), 3, 12, 0, 0, 0, time.UTC); return &v }
	world := &geo.BBox{MinX: -180, MinY: -90, MaxX: 180, MaxY: 90}
	aggs, err := search.ParseAggregations([]string{"datetime_frequency"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var db *sqlite.DB
	check := func(step string, colls ...string) {
		t.Helper()
		fast, err := db.Aggregate(ctx, search.Query{Collections: colls}, aggs)
		if err != nil {
			t.Fatal(err)
		}
		slow, err := db.Aggregate(ctx, search.Query{Collections: colls, BBox: world}, aggs)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Errorf("%s: histogram %+v, counting the items %+v", step, fast, slow)
		}
	}
	item := func(coll, id string, dt *time.Time) stac.Item {
		return storetest.Item(t, storetest.ItemSpec{Collection: coll, ID: id, Datetime: dt})
	}
	// An older catalog: no item_hours yet.
	db = olderCatalog(t, item("c", "a", at(0, 1)), `DROP TRIGGER item_hours_insert; DROP TRIGGER item_hours_delete;
		DROP TRIGGER item_hours_update; DROP TABLE item_hours`)
	check("after the upgrade")
	if err := db.PutCollection(ctx, storetest.Collection(t, "d"), store.Upsert); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutItems(ctx, []stac.Item{item("c", "b", at(0, 1)), item("c", "e", at(1, 5)), item("d", "f", at(0, 1))}, store.Upsert); err != nil {
		t.Fatal(err)
	}
	check("after inserts")
	check("one collection", "d")
	if _, err := db.PutItems(ctx, []stac.Item{item("c", "b", at(2, 7))}, store.Upsert); err != nil {
		t.Fatal(err)
	}
	check("after moving an item in time")
	if err := db.DeleteItem(ctx, "c", "e"); err != nil {
		t.Fatal(err)
	}
	check("after a delete")
	if err := db.DeleteCollection(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	check("after deleting a collection")
	check("the deleted collection", "d")
}
