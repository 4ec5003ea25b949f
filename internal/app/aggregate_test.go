package app_test

import (
	"net/url"
	"strings"
	"testing"
)

func TestAggregate(t *testing.T) {
	srv := newServer(t, 200, nil)
	o := loadOAS(t, srv)
	byName := func(r result) map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, a := range r.json["aggregations"].([]any) {
			m := a.(map[string]any)
			out[m["name"].(string)] = m
		}
		return out
	}
	l := do(t, o, "GET", srv.URL+"/aggregations", "")
	if len(l.json["aggregations"].([]any)) < 10 {
		t.Fatalf("aggregations list: %s", l.body)
	}
	r := do(t, o, "GET", srv.URL+"/aggregate?aggregations=total_count,collection_frequency,datetime_frequency,cloud_cover_frequency&datetime_frequency_interval=year", "")
	a := byName(r)
	if a["total_count"]["value"].(float64) != demoItems+200 {
		t.Fatalf("total_count %v", a["total_count"])
	}
	var sum float64
	for _, b := range a["collection_frequency"]["buckets"].([]any) {
		sum += b.(map[string]any)["frequency"].(float64)
	}
	if sum != demoItems+200 {
		t.Fatalf("collection_frequency buckets sum to %v", sum)
	}
	years := a["datetime_frequency"]["buckets"].([]any)
	if k := years[0].(map[string]any)["key"].(string); !strings.HasSuffix(k, "-01-01T00:00:00.000Z") {
		t.Fatalf("yearly bucket key %q", k)
	}
	p := do(t, o, "POST", srv.URL+"/aggregate", `{"aggregations":["total_count"],"collections":["landsat-8-l1"],"filter":{"op":"<","args":[{"property":"eo:cloud_cover"},50]}}`)
	if v := byName(p)["total_count"]["value"].(float64); v < 1 || v > 2 {
		t.Fatalf("filtered total_count %v", v)
	}
	c := do(t, o, "GET", srv.URL+"/collections/sentinel-2-synthetic/aggregate?aggregations=total_count", "")
	if v := byName(c)["total_count"]["value"].(float64); v != 200 {
		t.Fatalf("per-collection total_count %v", v)
	}
	for _, bad := range []string{"aggregations=nope", "aggregations=datetime_frequency&datetime_frequency_interval=fortnight", "aggregations=centroid_geohash_grid_frequency&centroid_geohash_grid_frequency_precision=40", "bbox=1"} {
		if r := do(t, o, "GET", srv.URL+"/aggregate?"+bad, ""); r.status != 400 {
			t.Errorf("%s: %d %s", bad, r.status, r.body)
		}
	}
	if r := do(t, o, "GET", srv.URL+"/collections/nope/aggregate?"+url.Values{"aggregations": {"total_count"}}.Encode(), ""); r.status != 404 {
		t.Errorf("aggregate of a missing collection: %d", r.status)
	}
}
