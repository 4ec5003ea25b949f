package storetest

import (
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/tessera-geo/tessera/internal/cql2"
	"github.com/tessera-geo/tessera/internal/geo"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/store"
)

// referenceAggregate computes aggregations over docs in Go.
func referenceAggregate(docs []map[string]any, aggs []search.Aggregation) map[string]any {
	out := map[string]any{}
	for _, a := range aggs {
		counts := map[string]int64{}
		var minT, maxT *time.Time
		for _, d := range docs {
			props := d["properties"].(map[string]any)
			start, end := itemTimes(props)
			switch a.Kind {
			case search.AggDatetimeMin, search.AggDatetimeMax:
				if minT == nil || start.Before(*minT) {
					minT = &start
				}
				if maxT == nil || end.After(*maxT) {
					maxT = &end
				}
			case search.AggDatetimeFrequency:
				counts[time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC).Format("2006-01-02T15:04:05.000Z")]++
			case search.AggTerms:
				v := props[a.Field]
				if a.Field == "collection" {
					v = d["collection"]
				}
				if s, ok := v.(string); ok {
					counts[s]++
				}
			case search.AggRanges:
				if f, ok := props[a.Field].(float64); ok {
					for i, r := range a.Ranges {
						if (r.From == nil || f >= *r.From) && (r.To == nil || f < *r.To) {
							counts[strconv.Itoa(i)]++
							break
						}
					}
				}
			case search.AggGeohash:
				b := d["bbox"].([]any)
				x, y := (b[0].(float64)+b[2].(float64))/2, (b[1].(float64)+b[3].(float64))/2
				counts[geo.Geohash(x, y, a.Precision)]++
			}
		}
		switch a.Kind {
		case search.AggCount:
			out[a.Name] = int64(len(docs))
		case search.AggDatetimeMin:
			out[a.Name] = minT.Format("2006-01-02T15:04:05.000Z")
		case search.AggDatetimeMax:
			out[a.Name] = maxT.Format("2006-01-02T15:04:05.000Z")
		default:
			out[a.Name] = counts
		}
	}
	return out
}

func itemTimes(props map[string]any) (time.Time, time.Time) {
	parse := func(v any) time.Time { t, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(v)); return t.UTC() }
	if s, ok := props["start_datetime"]; ok && props["end_datetime"] != nil {
		return parse(s), parse(props["end_datetime"])
	}
	t := parse(props["datetime"])
	return t, t
}

func resultMap(res []store.AggregationResult, aggs []search.Aggregation) map[string]any {
	out := map[string]any{}
	for i, r := range res {
		if r.Buckets == nil && r.Value != nil {
			out[r.Name] = r.Value
			continue
		}
		counts := map[string]int64{}
		for _, b := range r.Buckets {
			key := b.Key
			if aggs[i].Kind == search.AggRanges {
				for j, rg := range aggs[i].Ranges {
					if reflect.DeepEqual(rg.From, b.From) && reflect.DeepEqual(rg.To, b.To) {
						key = strconv.Itoa(j)
					}
				}
			}
			counts[key] = b.Frequency
		}
		out[r.Name] = counts
	}
	return out
}

func testAggregate(t *testing.T, s store.Store) {
	ag, ok := s.(store.Aggregator)
	if !ok {
		t.Skip("store does not implement store.Aggregator")
	}
	docs := filterFixture(t, s)
	var names []string
	for _, d := range search.Aggregations {
		if d.Kind != search.AggGeotile {
			names = append(names, d.Name)
		}
	}
	aggs, err := search.ParseAggregations(names, func(k string) string {
		if k == "centroid_geohash_grid_frequency_precision" {
			return "2"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	accent, _ := cql2.ParseText(`ACCENTI(platform) = accenti('sentinel-2a') OR "eo:cloud_cover" < 3`)
	for name, q := range map[string]search.Query{
		"everything":              {},
		"bbox (exact test in Go)": {BBox: &geo.BBox{MinX: -60, MinY: -40, MaxX: 60, MaxY: 40}},
		"residual filter":         {Filter: accent},
	} {
		t.Run(name, func(t *testing.T) {
			var matching []map[string]any
			for _, d := range docs {
				if q.BBox != nil {
					b := d["bbox"].([]any)
					box := geo.BBox{MinX: b[0].(float64), MinY: b[1].(float64), MaxX: b[2].(float64), MaxY: b[3].(float64)}
					if !q.BBox.Intersects(box) {
						continue
					}
					// The fixture's footprints are their bboxes or triangles inside them:
					// use the store's own exact answer as the membership list.
				}
				if q.Filter != nil {
					if ok, _ := cql2.Evaluate(q.Filter, d); !ok {
						continue
					}
				}
				matching = append(matching, d)
			}
			if q.BBox != nil {
				ids := map[string]bool{}
				for _, id := range walk(t, s, search.Query{BBox: q.BBox, Limit: 1000}) {
					ids[id] = true
				}
				var exact []map[string]any
				for _, d := range matching {
					if ids[fmt.Sprint(d["collection"], "/", d["id"])] {
						exact = append(exact, d)
					}
				}
				matching = exact
			}
			if len(matching) == 0 || (len(matching) == len(docs) && name != "everything") {
				t.Fatalf("query matches %d of %d", len(matching), len(docs))
			}
			res, err := ag.Aggregate(t.Context(), q, aggs)
			if err != nil {
				t.Fatal(err)
			}
			got, want := resultMap(res, aggs), referenceAggregate(matching, aggs)
			for i, a := range aggs {
				g, isCounts := got[a.Name].(map[string]int64)
				w, _ := want[a.Name].(map[string]int64)
				if !isCounts {
					if !reflect.DeepEqual(got[a.Name], want[a.Name]) {
						t.Errorf("%s: got %v, want %v", a.Name, got[a.Name], want[a.Name])
					}
					continue
				}
				// Terms keep the most frequent buckets; the rest is overflow.
				var sumGot, sumWant int64
				for k, n := range g {
					if w[k] != n {
						t.Errorf("%s: bucket %q has %d, want %d", a.Name, k, n, w[k])
					}
					sumGot += n
				}
				for _, n := range w {
					sumWant += n
				}
				if sumGot+res[i].Overflow != sumWant {
					t.Errorf("%s: buckets %d + overflow %d, want %d", a.Name, sumGot, res[i].Overflow, sumWant)
				}
			}
		})
	}
}
