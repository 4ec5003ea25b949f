package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/store"
)

// searchableText is what free text searches in a document.
func searchableText(d map[string]any) string {
	props, _ := d["properties"].(map[string]any)
	parts := []string{fmt.Sprint(d["id"]), fmt.Sprint(d["collection"])}
	for _, k := range []string{"title", "description"} {
		if s, ok := props[k].(string); ok {
			parts = append(parts, s)
		}
	}
	if kw, ok := props["keywords"].([]any); ok {
		for _, k := range kw {
			parts = append(parts, fmt.Sprint(k))
		}
	}
	return strings.Join(parts, " | ")
}

func testFreeText(t *testing.T, s store.Store) {
	if _, ok := s.(store.FreeTexter); !ok {
		t.Skip("store does not implement store.FreeTexter")
	}
	putCollections(t, s, "texts")
	specs := []ItemSpec{
		{ID: "t1", Props: map[string]any{"title": "Flood extent of the Rhine", "keywords": []string{"flood", "river"}}},
		{ID: "t2", Props: map[string]any{"title": "Wildfire near Athens", "description": "Burn scar mapping after the fire", "keywords": []string{"fire"}}},
		{ID: "t3", Props: map[string]any{"title": "Café terraces of Paris", "description": "Urban heat island study"}},
		{ID: "t4", Props: map[string]any{"description": "River flood forecast", "keywords": []string{"hydrology"}}},
		{ID: "t5", Props: map[string]any{"title": "Heat wave over the river delta"}},
	}
	for i, sp := range specs {
		sp.Collection = "texts"
		sp.X, sp.Y = float64(i), float64(i)
		sp.Datetime = at(0)
		put(t, s, Item(t, sp))
	}
	docs := filterDocsOf(t, s, "texts")
	for _, q := range []string{
		"flood", "FLOOD river", "flood,fire", `"heat island"`, "cafe", "river -flood", "+river +heat", "flood AND river",
		"t2", "texts -fire -flood", "athens OR paris", `"river flood"`,
	} {
		t.Run(q, func(t *testing.T) {
			ft, err := search.ParseFreeText(q)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, d := range docs {
				if ft.Matches(searchableText(d)) {
					want = append(want, fmt.Sprint(d["collection"], "/", d["id"]))
				}
			}
			if len(want) == 0 || len(want) == len(docs) {
				t.Fatalf("reference matches %d of %d: not a discriminating case", len(want), len(docs))
			}
			got := walk(t, s, search.Query{Q: ft, Collections: []string{"texts"}, Limit: 2})
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
}

// filterDocsOf reads back every item of a collection.
func filterDocsOf(t *testing.T, s store.Store, collection string) []map[string]any {
	t.Helper()
	page, err := s.Search(t.Context(), search.Query{Collections: []string{collection}, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]map[string]any, len(page.Items))
	for i, r := range page.Items {
		if err := jsonUnmarshal(r.Doc, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
