package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/store"
)

// sortValue is what a document sorts by for a field: nil (missing or
// null) sorts before every value.
func sortValue(doc map[string]any, field string) any {
	props, _ := doc["properties"].(map[string]any)
	switch field {
	case "id", "collection":
		return doc[field]
	case "datetime", "start_datetime":
		v := props["datetime"]
		if s, ok := props["start_datetime"].(string); ok && (v == nil || props["end_datetime"] != nil) {
			v = s
		}
		t, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(v))
		return float64(t.UnixMicro())
	}
	return props[field]
}

func compareValues(a, b any) int {
	rank := func(v any) int {
		switch v.(type) {
		case nil:
			return 0
		case float64:
			return 1
		default:
			return 2
		}
	}
	if ra, rb := rank(a), rank(b); ra != rb {
		return cmp.Compare(ra, rb)
	}
	switch x := a.(type) {
	case float64:
		return cmp.Compare(x, b.(float64))
	case string:
		return strings.Compare(x, b.(string))
	}
	return 0
}

// referenceOrder sorts docs as the Sort contract says.
func referenceOrder(docs []map[string]any, sb []search.SortField) []string {
	sorted := slices.Clone(docs)
	last := sb[len(sb)-1].Desc
	slices.SortStableFunc(sorted, func(a, b map[string]any) int {
		for _, f := range sb {
			c := compareValues(sortValue(a, f.Field), sortValue(b, f.Field))
			if f.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		for _, f := range []string{"id", "collection"} {
			c := compareValues(a[f], b[f])
			if last {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	out := make([]string, len(sorted))
	for i, d := range sorted {
		out[i] = fmt.Sprint(d["collection"], "/", d["id"])
	}
	return out
}

func testSort(t *testing.T, s store.Store) {
	if _, ok := s.(store.Sorter); !ok {
		t.Skip("store does not implement store.Sorter")
	}
	docs := filterFixture(t, s)
	orders := [][]search.SortField{
		{{Field: "datetime", Desc: true}},
		{{Field: "datetime"}},
		{{Field: "id"}},
		{{Field: "s2:vegetation_percentage"}},
		{{Field: "s2:vegetation_percentage", Desc: true}},
		{{Field: "platform"}, {Field: "view:sun_azimuth", Desc: true}},
		{{Field: "platform", Desc: true}, {Field: "datetime"}},
		{{Field: "title", Desc: true}},
		{{Field: "mgrs:utm_zone"}, {Field: "collection", Desc: true}, {Field: "id"}},
	}
	for _, sb := range orders {
		t.Run(fmt.Sprint(sb), func(t *testing.T) {
			want := referenceOrder(docs, sb)
			for _, limit := range []int{1000, 7} {
				got := walk(t, s, search.Query{SortBy: sb, Limit: limit})
				if !slices.Equal(got, want) {
					i := 0
					for i < len(got) && i < len(want) && got[i] == want[i] {
						i++
					}
					t.Fatalf("limit %d: %d items, want %d; first difference at %d: got %v, want %v",
						limit, len(got), len(want), i, got[i:min(i+3, len(got))], want[i:min(i+3, len(want))])
				}
			}
		})
	}
	// A token continues only the order it was issued for.
	page, err := s.Search(t.Context(), search.Query{SortBy: orders[3], Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Search(t.Context(), search.Query{SortBy: orders[4], Limit: 5, Token: page.Next}); err == nil {
		t.Fatal("a token of another sort order was accepted")
	}
}
