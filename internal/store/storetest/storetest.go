// Package storetest is the contract every store.Store implementation must
// pass: run it from the implementation's tests with
//
//	storetest.Run(t, func(t *testing.T) store.Store { ... a fresh, empty store ... })
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/peterstace/simplefeatures/geom"

	"github.com/tessera-geo/tessera/internal/geo"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
)

// NewStore returns a fresh, empty store; the test owns it and closes it.
type NewStore func(t *testing.T) store.Store

// Run runs the whole contract against stores from newStore.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Collections", testCollections},
		{"ItemCRUD", testItemCRUD},
		{"WriteModes", testWriteModes},
		{"MissingCollection", testMissingCollection},
		{"SearchFilters", testSearchFilters},
		{"PaginationWalk", testPaginationWalk},
		{"PaginationUnderWrites", testPaginationUnderWrites},
		{"BadToken", testBadToken},
		{"DeleteCollection", testDeleteCollection},
		{"Filter", testFilter},
		{"Sort", testSort},
		{"FreeText", testFreeText},
		{"Aggregate", testAggregate},
		{"ItemProperties", testItemProperties},
		{"SearchRegistry", testSearchRegistry},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() { s.Close() })
			tc.fn(t, s)
		})
	}
}

var base = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// Collection returns a valid collection document.
func Collection(t testing.TB, id string) stac.Collection {
	t.Helper()
	doc := fmt.Sprintf(`{"type":"Collection","stac_version":"1.0.0","id":%q,"description":"test collection","license":"CC-BY-4.0",
		"extent":{"spatial":{"bbox":[[-180,-90,180,90]]},"temporal":{"interval":[["2020-01-01T00:00:00Z",null]]}},"links":[]}`, id)
	c, err := stac.DecodeCollection([]byte(doc), stac.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ItemSpec describes a test item.
type ItemSpec struct {
	Collection, ID string
	Geometry       string // GeoJSON; default: a 1°×1° square at (X, Y)
	X, Y           float64
	Datetime       *time.Time
	Start, End     *time.Time
	Props          map[string]any
	BBox           []float64 // written as the item's bbox when set
}

// Item builds a valid item from a spec.
func Item(t testing.TB, s ItemSpec) stac.Item {
	t.Helper()
	g := s.Geometry
	if g == "" {
		g = fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%[1]g,%[2]g],[%[3]g,%[2]g],[%[3]g,%[4]g],[%[1]g,%[4]g],[%[1]g,%[2]g]]]}`, s.X, s.Y, s.X+1, s.Y+1)
	}
	props := map[string]any{}
	for k, v := range s.Props {
		props[k] = v
	}
	if s.Datetime != nil {
		props["datetime"] = s.Datetime.Format(time.RFC3339Nano)
	} else {
		props["datetime"] = nil
	}
	if s.Start != nil {
		props["start_datetime"] = s.Start.Format(time.RFC3339Nano)
		props["end_datetime"] = s.End.Format(time.RFC3339Nano)
	}
	pb, _ := json.Marshal(props)
	bbox := ""
	if s.BBox != nil {
		b, _ := json.Marshal(s.BBox)
		bbox = `"bbox":` + string(b) + ","
	}
	doc := fmt.Sprintf(`{"type":"Feature","stac_version":"1.0.0","id":%q,"collection":%q,%s"geometry":%s,"properties":%s,"assets":{},"links":[]}`,
		s.ID, s.Collection, bbox, g, pb)
	it, err := stac.DecodeItem([]byte(doc), stac.DecodeOptions{})
	if err != nil {
		t.Fatalf("item %s: %v", s.ID, err)
	}
	return it
}

func at(d time.Duration) *time.Time { t := base.Add(d); return &t }

func put(t testing.TB, s store.Store, items ...stac.Item) {
	t.Helper()
	errs, err := s.PutItems(context.Background(), items, store.Upsert)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range errs {
		if e != nil {
			t.Fatalf("item %d: %v", i, e)
		}
	}
}

func putCollections(t testing.TB, s store.Store, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := s.PutCollection(context.Background(), Collection(t, id), store.Upsert); err != nil {
			t.Fatal(err)
		}
	}
}

func ids(p store.Page) []string {
	out := make([]string, len(p.Items))
	for i, r := range p.Items {
		out[i] = r.ID
	}
	return out
}

func testCollections(t *testing.T, s store.Store) {
	ctx := context.Background()
	putCollections(t, s, "c", "a", "b")
	page, err := s.Collections(ctx, store.CollectionQuery{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if page.Matched != 3 || len(page.Collections) != 2 || page.Collections[0].ID != "a" || page.Next == "" {
		t.Fatalf("first page: %+v", page)
	}
	page, err = s.Collections(ctx, store.CollectionQuery{Limit: 2, Token: page.Next})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Collections) != 1 || page.Collections[0].ID != "c" || page.Next != "" {
		t.Fatalf("second page: %+v", page)
	}
	rec, err := s.Collection(ctx, "b")
	if err != nil || rec.ID != "b" || !json.Valid(rec.Doc) {
		t.Fatalf("Collection(b) = %+v, %v", rec, err)
	}
	if _, err := s.Collection(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing collection: %v, want ErrNotFound", err)
	}
	if err := s.PutCollection(ctx, Collection(t, "a"), store.Create); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("create existing: %v, want ErrConflict", err)
	}
	if err := s.PutCollection(ctx, Collection(t, "z"), store.Replace); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("replace missing: %v, want ErrNotFound", err)
	}
}

func testItemCRUD(t *testing.T, s store.Store) {
	ctx := context.Background()
	putCollections(t, s, "c")
	it := Item(t, ItemSpec{Collection: "c", ID: "one", X: 10, Y: 10, Datetime: at(0)})
	put(t, s, it)
	rec, err := s.Item(ctx, "c", "one")
	if err != nil {
		t.Fatal(err)
	}
	if string(rec.Doc) != string(it.Doc) {
		t.Fatalf("stored doc differs:\n%s\n%s", rec.Doc, it.Doc)
	}
	// Upsert replaces.
	it2 := Item(t, ItemSpec{Collection: "c", ID: "one", X: 20, Y: 20, Datetime: at(time.Hour), Props: map[string]any{"v": 2}})
	put(t, s, it2)
	rec, _ = s.Item(ctx, "c", "one")
	if string(rec.Doc) != string(it2.Doc) {
		t.Fatalf("upsert did not replace")
	}
	// Spatial index follows the update.
	page, err := s.Search(ctx, search.Query{BBox: &geo.BBox{MinX: 9, MinY: 9, MaxX: 12, MaxY: 12}, Limit: 10})
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("old location still matches: %v %v", ids(page), err)
	}
	page, _ = s.Search(ctx, search.Query{BBox: &geo.BBox{MinX: 19, MinY: 19, MaxX: 22, MaxY: 22}, Limit: 10})
	if len(page.Items) != 1 {
		t.Fatalf("new location does not match: %v", ids(page))
	}
	if err := s.DeleteItem(ctx, "c", "one"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Item(ctx, "c", "one"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted item: %v", err)
	}
	if err := s.DeleteItem(ctx, "c", "one"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	page, _ = s.Search(ctx, search.Query{BBox: &geo.BBox{MinX: 19, MinY: 19, MaxX: 22, MaxY: 22}, Limit: 10})
	if len(page.Items) != 0 {
		t.Fatalf("deleted item still in spatial index")
	}
	if _, err := s.Item(ctx, "nope", "one"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("item of missing collection: %v", err)
	}
}

func testWriteModes(t *testing.T, s store.Store) {
	ctx := context.Background()
	putCollections(t, s, "c")
	a := Item(t, ItemSpec{Collection: "c", ID: "a", Datetime: at(0)})
	b := Item(t, ItemSpec{Collection: "c", ID: "b", Datetime: at(0)})
	put(t, s, a)
	errs, err := s.PutItems(ctx, []stac.Item{a, b}, store.Create)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(errs[0], store.ErrConflict) || errs[1] != nil {
		t.Fatalf("create: %v", errs)
	}
	c := Item(t, ItemSpec{Collection: "c", ID: "c", Datetime: at(0)})
	errs, err = s.PutItems(ctx, []stac.Item{a, c}, store.Replace)
	if err != nil {
		t.Fatal(err)
	}
	if errs[0] != nil || !errors.Is(errs[1], store.ErrNotFound) {
		t.Fatalf("replace: %v", errs)
	}
}

func testMissingCollection(t *testing.T, s store.Store) {
	putCollections(t, s, "c")
	good := Item(t, ItemSpec{Collection: "c", ID: "good", Datetime: at(0)})
	orphan := Item(t, ItemSpec{Collection: "missing", ID: "orphan", Datetime: at(0)})
	errs, err := s.PutItems(context.Background(), []stac.Item{orphan, good}, store.Upsert)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(errs[0], store.ErrCollectionMissing) || errs[1] != nil {
		t.Fatalf("errs = %v", errs)
	}
	if _, err := s.Item(context.Background(), "c", "good"); err != nil {
		t.Fatalf("neighbour of a bad item not stored: %v", err)
	}
}

// searchFixture is a small catalog with known answers.
func searchFixture(t *testing.T, s store.Store) {
	putCollections(t, s, "s1", "s2")
	put(t, s,
		Item(t, ItemSpec{Collection: "s1", ID: "paris", X: 2, Y: 48, Datetime: at(0)}),
		Item(t, ItemSpec{Collection: "s1", ID: "berlin", X: 13, Y: 52, Datetime: at(24 * time.Hour)}),
		Item(t, ItemSpec{Collection: "s2", ID: "paris", X: 2, Y: 48, Datetime: at(48 * time.Hour)}),
		// A long-running item: the whole of 2019.
		Item(t, ItemSpec{Collection: "s2", ID: "season", X: 2, Y: 48,
			Start: ptr(base.AddDate(-1, 0, 0)), End: ptr(base.Add(-time.Second))}),
		// Crosses the antimeridian (as a multipolygon, as RFC 7946 asks).
		Item(t, ItemSpec{Collection: "s2", ID: "fiji", Datetime: at(72 * time.Hour),
			Geometry: `{"type":"MultiPolygon","coordinates":[[[[179,-17],[180,-17],[180,-16],[179,-16],[179,-17]]],[[[-180,-17],[-179,-17],[-179,-16],[-180,-16],[-180,-17]]]]}`}),
		// The same, with the bbox crossing the antimeridian as RFC 7946 §5.2
		// writes it (minx > maxx).
		Item(t, ItemSpec{Collection: "s2", ID: "fiji-crossing", Datetime: at(60 * time.Hour), BBox: []float64{179, -17, -179, -16},
			Geometry: `{"type":"MultiPolygon","coordinates":[[[[179,-17],[180,-17],[180,-16],[179,-16],[179,-17]]],[[[-180,-17],[-179,-17],[-179,-16],[-180,-16],[-180,-17]]]]}`}),
		// A thin diagonal triangle: its bbox covers (10..20, 0..10) but its
		// geometry does not reach the corner (19..20, 0..1).
		Item(t, ItemSpec{Collection: "s1", ID: "diagonal", Datetime: at(96 * time.Hour),
			Geometry: `{"type":"Polygon","coordinates":[[[10,0],[11,0],[20,10],[10,0]]]}`}),
	)
}

func ptr[T any](v T) *T { return &v }

func testSearchFilters(t *testing.T, s store.Store) {
	searchFixture(t, s)
	bb := func(a, b, c, d float64) *geo.BBox { return &geo.BBox{MinX: a, MinY: b, MaxX: c, MaxY: d} }
	dt := func(v string) *search.Interval {
		iv, err := search.ParseDatetime(v)
		if err != nil {
			t.Fatal(err)
		}
		return &iv
	}
	poly := func(js string) *geom.Geometry {
		g, err := stac.DecodeGeometry(json.RawMessage(js))
		if err != nil {
			t.Fatal(err)
		}
		return &g
	}
	tests := []struct {
		name string
		q    search.Query
		want []string // collection/id in result order
	}{
		{"all, newest first", search.Query{}, []string{"s1/diagonal", "s2/fiji", "s2/fiji-crossing", "s2/paris", "s1/berlin", "s1/paris", "s2/season"}},
		{"collection", search.Query{Collections: []string{"s2"}}, []string{"s2/fiji", "s2/fiji-crossing", "s2/paris", "s2/season"}},
		{"ids", search.Query{IDs: []string{"paris"}}, []string{"s2/paris", "s1/paris"}},
		{"ids and collection", search.Query{IDs: []string{"paris", "berlin"}, Collections: []string{"s1"}}, []string{"s1/berlin", "s1/paris"}},
		{"bbox", search.Query{BBox: bb(0, 45, 5, 50)}, []string{"s2/paris", "s1/paris", "s2/season"}},
		{"bbox touching edge", search.Query{BBox: bb(3, 49, 4, 50)}, []string{"s2/paris", "s1/paris", "s2/season"}},
		{"bbox across antimeridian", search.Query{BBox: bb(178, -20, -178, -10)}, []string{"s2/fiji", "s2/fiji-crossing"}},
		{"bbox west of antimeridian", search.Query{BBox: bb(-179.5, -16.5, -179.2, -16.2)}, []string{"s2/fiji", "s2/fiji-crossing"}},
		{"bbox east of antimeridian", search.Query{BBox: bb(179.2, -16.5, 179.5, -16.2)}, []string{"s2/fiji", "s2/fiji-crossing"}},
		{"bbox between the halves", search.Query{BBox: bb(-170, -17, 170, -16)}, nil},
		{"bbox inside item bbox but outside geometry", search.Query{BBox: bb(19, 0, 19.9, 1)}, nil},
		{"bbox hits geometry", search.Query{BBox: bb(14, 3, 16, 5)}, []string{"s1/diagonal"}},
		{"wide bbox", search.Query{BBox: bb(-170, -80, 170, 80)}, []string{"s1/diagonal", "s2/paris", "s1/berlin", "s1/paris", "s2/season"}},
		{"wide bbox across antimeridian", search.Query{BBox: bb(100, -80, 50, 80)}, []string{"s1/diagonal", "s2/fiji", "s2/fiji-crossing", "s2/paris", "s1/berlin", "s1/paris", "s2/season"}},
		{"intersects exact miss", search.Query{Intersects: poly(`{"type":"Point","coordinates":[19.5,0.5]}`)}, nil},
		{"intersects exact hit", search.Query{Intersects: poly(`{"type":"Point","coordinates":[15,5]}`)}, []string{"s1/diagonal"}},
		{"intersects polygon", search.Query{Intersects: poly(`{"type":"Polygon","coordinates":[[[12,51],[14,51],[14,53],[12,53],[12,51]]]}`)}, []string{"s1/berlin"}},
		{"datetime instant", search.Query{Datetime: dt("2020-01-02T00:00:00Z")}, []string{"s1/berlin"}},
		{"datetime closed", search.Query{Datetime: dt("2020-01-01T00:00:00Z/2020-01-03T00:00:00Z")}, []string{"s2/paris", "s1/berlin", "s1/paris"}},
		{"datetime open end", search.Query{Datetime: dt("2020-01-03T00:00:00Z/..")}, []string{"s1/diagonal", "s2/fiji", "s2/fiji-crossing", "s2/paris"}},
		{"datetime open start", search.Query{Datetime: dt("../2019-12-31T00:00:00Z")}, []string{"s2/season"}},
		{"datetime overlaps range", search.Query{Datetime: dt("2019-06-01T00:00:00Z/2019-06-02T00:00:00Z")}, []string{"s2/season"}},
		{"datetime instant inside range", search.Query{Datetime: dt("2019-03-01T00:00:00Z")}, []string{"s2/season"}},
		{"everything", search.Query{Collections: []string{"s1", "s2"}, BBox: bb(0, 45, 5, 50), Datetime: dt("2019-12-31T12:00:00Z/2020-01-01T12:00:00Z")}, []string{"s1/paris", "s2/season"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Limit = 100
			page, err := s.Search(context.Background(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range page.Items {
				got = append(got, r.Collection+"/"+r.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if page.Next != "" {
				t.Fatalf("unexpected next token")
			}
		})
	}
}

// walk pages through q and returns every collection/id seen.
func walk(t *testing.T, s store.Store, q search.Query) []string {
	t.Helper()
	var seen []string
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("pagination does not end")
		}
		page, err := s.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) > q.Limit {
			t.Fatalf("page of %d items for limit %d", len(page.Items), q.Limit)
		}
		for _, r := range page.Items {
			seen = append(seen, r.Collection+"/"+r.ID)
		}
		if page.Next == "" {
			return seen
		}
		q.Token = page.Next
	}
}

func manyItems(t *testing.T, n int, coll string) []stac.Item {
	items := make([]stac.Item, n)
	for i := range items {
		// Many items share a datetime so the id tiebreak matters.
		items[i] = Item(t, ItemSpec{Collection: coll, ID: fmt.Sprintf("item-%04d", i),
			X: float64(i%50) - 25, Y: float64(i%30) - 15, Datetime: at(time.Duration(i/7) * time.Hour)})
	}
	return items
}

func testPaginationWalk(t *testing.T, s store.Store) {
	putCollections(t, s, "a", "b")
	put(t, s, manyItems(t, 300, "a")...)
	put(t, s, manyItems(t, 200, "b")...)
	for _, q := range []search.Query{
		{Limit: 7},
		{Limit: 1, Collections: []string{"b"}},
		{Limit: 13, BBox: &geo.BBox{MinX: -10, MinY: -10, MaxX: 10, MaxY: 10}},
		{Limit: 50, Datetime: &search.Interval{Start: at(5 * time.Hour), End: at(20 * time.Hour)}},
	} {
		all := q
		all.Limit = 10000
		page, err := s.Search(context.Background(), all)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, r := range page.Items {
			want = append(want, r.Collection+"/"+r.ID)
		}
		got := walk(t, s, q)
		if !slices.Equal(got, want) {
			t.Fatalf("walk with limit %d: %d items, want %d (first diff in %v)", q.Limit, len(got), len(want), q)
		}
		if len(want) == 0 {
			t.Fatalf("query matched nothing: %+v", q)
		}
	}
}

// testPaginationUnderWrites walks while other items are inserted: every item
// present before the walk started is seen exactly once.
func testPaginationUnderWrites(t *testing.T, s store.Store) {
	putCollections(t, s, "a", "new")
	before := manyItems(t, 400, "a")
	put(t, s, before...)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			put(t, s, Item(t, ItemSpec{Collection: "new", ID: fmt.Sprintf("n%d", i), Datetime: at(time.Duration(i%100) * time.Hour)}))
		}
	}()
	seen := walk(t, s, search.Query{Limit: 9, Collections: []string{"a", "new"}})
	close(stop)
	wg.Wait()
	count := map[string]int{}
	for _, id := range seen {
		count[id]++
	}
	for id, n := range count {
		if n > 1 {
			t.Fatalf("%s seen %d times", id, n)
		}
	}
	for _, it := range before {
		if count["a/"+it.ID] != 1 {
			t.Fatalf("a/%s missed during concurrent writes", it.ID)
		}
	}
}

func testBadToken(t *testing.T, s store.Store) {
	for _, tok := range []string{"garbage!", "bm90IGpzb24", "WzIsMSwiYSIsImIiXQ"} {
		_, err := s.Search(context.Background(), search.Query{Limit: 10, Token: tok})
		var pe *search.InvalidParamError
		if !errors.As(err, &pe) || pe.Param != "token" {
			t.Fatalf("token %q: %v, want InvalidParamError for token", tok, err)
		}
	}
}

func testDeleteCollection(t *testing.T, s store.Store) {
	ctx := context.Background()
	putCollections(t, s, "a", "b")
	put(t, s, manyItems(t, 20, "a")...)
	put(t, s, manyItems(t, 5, "b")...)
	if err := s.DeleteCollection(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	page, err := s.Search(ctx, search.Query{Limit: 100, BBox: &geo.BBox{MinX: -180, MinY: -90, MaxX: 180, MaxY: 90}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 5 {
		t.Fatalf("after delete: %d items, want 5", len(page.Items))
	}
	if err := s.DeleteCollection(ctx, "a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}
