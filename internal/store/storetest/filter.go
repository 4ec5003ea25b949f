package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tessera-geo/tessera/internal/cql2"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
	"github.com/tessera-geo/tessera/internal/synth"
)

// FilterCorpus is the CQL2 text corpus every Filterer must answer exactly as
// cql2.Evaluate does.
var FilterCorpus = []string{
	`"eo:cloud_cover" < 10`,
	`"eo:cloud_cover" BETWEEN 10 AND 20 AND platform = 'sentinel-2b'`,
	`platform IN ('sentinel-2a', 'landsat-8') OR "eo:cloud_cover" >= 90`,
	`NOT (platform = 'sentinel-2a')`,
	`id LIKE 'S2A%' AND collection = 'synth'`,
	`"grid:code" LIKE 'MGRS-3%'`,
	`CASEI(platform) = casei('SENTINEL-2B')`,
	`ACCENTI(title) = accenti('cafe')`,
	`title IS NULL`,
	`title IS NOT NULL AND NOT title LIKE 'C%'`,
	`datetime > TIMESTAMP('2020-06-01T00:00:00Z')`,
	`datetime BETWEEN TIMESTAMP('2018-01-01T00:00:00Z') AND TIMESTAMP('2019-01-01T00:00:00Z')`,
	`T_INTERSECTS(datetime, INTERVAL('2019-01-01T00:00:00Z', '2019-12-31T23:59:59Z'))`,
	`T_BEFORE(datetime, TIMESTAMP('2017-01-01T00:00:00Z'))`,
	`T_DURING(datetime, INTERVAL('2019-01-01T00:00:00Z', '..'))`,
	`S_INTERSECTS(geometry, POLYGON((0 0, 40 0, 40 40, 0 40, 0 0)))`,
	`S_INTERSECTS(geometry, BBOX(-20, -20, 20, 20)) AND "eo:cloud_cover" < 50`,
	`S_WITHIN(geometry, POLYGON((-60 -60, 60 -60, 60 60, -60 60, -60 -60)))`,
	`S_DISJOINT(geometry, POLYGON((-180 -90, 0 -90, 0 90, -180 90, -180 -90)))`,
	`S_CONTAINS(geometry, POINT(10.5 10.5))`,
	`A_CONTAINS(instruments, ('msi'))`,
	`A_OVERLAPS(tags, ('b', 'z'))`,
	`"view:sun_elevation" > "view:sun_azimuth" - 100`,
	`"eo:cloud_cover" * 2 < 30`,
	`"mgrs:utm_zone" % 2 = 0`,
	`"s2:vegetation_percentage" + "eo:cloud_cover" > 80`,
	`"proj:epsg" IN (32633, 32733)`,
	`("eo:cloud_cover" < 5 OR platform = 'other') AND NOT "mgrs:utm_zone" < 30`,
}

// filterFixture writes a collection of synthetic items plus hand-made ones
// with accents, nulls, arrays and ranges, and returns every item decoded.
func filterFixture(t *testing.T, s store.Store) []map[string]any {
	putCollections(t, s, "synth", "hand")
	g := synth.New(synth.Options{Collection: "synth", Seed: 3})
	var items []stac.Item
	for range 300 {
		it, err := stac.DecodeItem(g.Next(), stac.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}
	hand := []ItemSpec{
		{ID: "cafe", X: 10, Y: 10, Datetime: at(0), Props: map[string]any{"title": "Café", "platform": "SENTINEL-2B", "tags": []string{"a", "b"}}},
		{ID: "cafe2", X: 20, Y: 20, Datetime: at(time.Hour), Props: map[string]any{"title": "cafe", "tags": []string{"z"}, "eo:cloud_cover": 3}},
		{ID: "null-title", X: -30, Y: 5, Datetime: at(2 * time.Hour), Props: map[string]any{"title": nil, "eo:cloud_cover": "12"}},
		{ID: "range", X: 30, Y: 30, Start: ptr(base.AddDate(-1, 0, 0)), End: ptr(base), Props: map[string]any{"title": "Range"}},
	}
	for _, h := range hand {
		h.Collection = "hand"
		items = append(items, Item(t, h))
	}
	put(t, s, items...)
	out := make([]map[string]any, len(items))
	for i, it := range items {
		if err := json.Unmarshal(it.Doc, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func testFilter(t *testing.T, s store.Store) {
	if _, ok := s.(store.Filterer); !ok {
		t.Skip("store does not implement store.Filterer")
	}
	docs := filterFixture(t, s)
	for _, text := range FilterCorpus {
		t.Run(text, func(t *testing.T) {
			e, err := cql2.ParseText(text)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, d := range docs {
				ok, err := cql2.Evaluate(e, d)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					want = append(want, fmt.Sprint(d["collection"], "/", d["id"]))
				}
			}
			if len(want) == 0 || len(want) == len(docs) {
				t.Fatalf("corpus filter matches %d of %d items: it cannot tell a right store from a wrong one", len(want), len(docs))
			}
			got := walk(t, s, search.Query{Filter: e, Limit: 17})
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("store returned %d items, evaluator %d\nstore only: %v\nevaluator only: %v",
					len(got), len(want), minus(got, want), minus(want, got))
			}
		})
	}
	// Filters combine with the other search parameters.
	e, _ := cql2.ParseText(`"eo:cloud_cover" < 50`)
	page, err := s.Search(context.Background(), search.Query{Filter: e, Collections: []string{"hand"}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(page); !slices.Equal(got, []string{"cafe2"}) {
		t.Fatalf("filter with collections: %v", got)
	}
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	if len(out) > 10 {
		out = append(out[:10], "...")
	}
	return out
}

func testItemProperties(t *testing.T, s store.Store) {
	pr, ok := s.(store.PropertiesReader)
	if !ok {
		t.Skip("store does not implement store.PropertiesReader")
	}
	filterFixture(t, s)
	props, err := pr.ItemProperties(context.Background(), []string{"hand"})
	if err != nil {
		t.Fatal(err)
	}
	for name, typ := range map[string]string{"title": "string", "tags": "array", "eo:cloud_cover": "mixed", "datetime": "string"} {
		if props[name] != typ {
			t.Errorf("hand property %s: %q, want %q (all: %v)", name, props[name], typ, props)
		}
	}
	if _, ok := props["s2:vegetation_percentage"]; ok {
		t.Errorf("synth-only property listed for hand")
	}
	all, err := pr.ItemProperties(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if all["s2:vegetation_percentage"] != "number" {
		t.Errorf("all collections: %v", all)
	}
	if err := s.DeleteCollection(context.Background(), "hand"); err != nil {
		t.Fatal(err)
	}
	props, _ = pr.ItemProperties(context.Background(), []string{"hand"})
	if len(props) != 0 {
		t.Errorf("properties of a deleted collection: %v", props)
	}
}
