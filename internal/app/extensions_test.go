package app_test

import (
	"net/url"
	"sort"
	"strings"
	"testing"
)

func TestSortFieldsQuery(t *testing.T) {
	srv := newServer(t, 300, nil)
	o := loadOAS(t, srv)
	cloud := func(r result) []float64 {
		var out []float64
		for _, f := range r.json["features"].([]any) {
			p := f.(map[string]any)["properties"].(map[string]any)
			out = append(out, p["eo:cloud_cover"].(float64))
		}
		return out
	}
	// Sorted walk through GET next links: ascending, every item once.
	var all []float64
	seen := map[string]bool{}
	u := srv.URL + "/search?collections=sentinel-2-synthetic&limit=23&sortby=" + url.QueryEscape("+properties.eo:cloud_cover")
	for u != "" {
		r := do(t, o, "GET", u, "")
		all = append(all, cloud(r)...)
		for _, f := range r.json["features"].([]any) {
			id := f.(map[string]any)["id"].(string)
			if seen[id] {
				t.Fatalf("%s twice in a sorted walk", id)
			}
			seen[id] = true
		}
		u = ""
		if n := links(r, "next"); len(n) > 0 {
			u = n[0]["href"].(string)
		}
	}
	if len(all) != 300 || !sort.Float64sAreSorted(all) {
		t.Fatalf("sorted walk: %d items, sorted %v", len(all), sort.Float64sAreSorted(all))
	}
	// POST, descending, with fields that exclude the sort field.
	r := do(t, o, "POST", srv.URL+"/search", `{"collections":["sentinel-2-synthetic"],"limit":5,
		"sortby":[{"field":"properties.eo:cloud_cover","direction":"desc"}],"fields":{"include":["properties.platform"]}}`)
	f0 := r.json["features"].([]any)[0].(map[string]any)
	if _, ok := f0["geometry"]; ok {
		t.Errorf("fields include did not drop geometry")
	}
	if p := f0["properties"].(map[string]any); len(p) != 1 || p["platform"] == nil {
		t.Errorf("fields include: properties %v", p)
	}
	if len(links(r, "next")) != 1 {
		t.Fatalf("no next link with fields")
	}
	body := links(r, "next")[0]["body"].(map[string]any)
	r2 := do(t, o, "POST", srv.URL+"/search", `{"collections":["sentinel-2-synthetic"],"limit":5,"sortby":[{"field":"properties.eo:cloud_cover","direction":"desc"}],"token":"`+body["token"].(string)+`"}`)
	if cloud(r2)[0] > 100 || len(cloud(r2)) != 5 {
		t.Fatalf("second sorted page: %v", cloud(r2))
	}
	// fields on GET and on /items.
	g := do(t, o, "GET", srv.URL+"/collections/sentinel-2-synthetic/items?limit=2&fields=-assets,-geometry", "")
	for _, f := range g.json["features"].([]any) {
		m := f.(map[string]any)
		if _, ok := m["assets"]; ok {
			t.Errorf("fields -assets kept assets")
		}
		if len(links(result{json: m}, "self")) != 1 {
			t.Errorf("generated links dropped by fields")
		}
	}
	// Query extension.
	q := do(t, o, "POST", srv.URL+"/search", `{"limit":1000,"query":{"eo:cloud_cover":{"lt":10},"platform":{"eq":"sentinel-2a"}}}`)
	for _, f := range q.json["features"].([]any) {
		p := f.(map[string]any)["properties"].(map[string]any)
		if p["eo:cloud_cover"].(float64) >= 10 || p["platform"] != "sentinel-2a" {
			t.Fatalf("query extension returned %v", p)
		}
	}
	if len(q.json["features"].([]any)) == 0 {
		t.Fatal("query extension matched nothing")
	}
	gq := do(t, o, "GET", srv.URL+"/search?limit=1000&query="+url.QueryEscape(`{"eo:cloud_cover":{"lt":10},"platform":{"eq":"sentinel-2a"}}`), "")
	if len(gq.json["features"].([]any)) != len(q.json["features"].([]any)) {
		t.Fatal("GET and POST query differ")
	}
	// Errors name the parameter.
	for _, tc := range []struct{ u, param string }{
		{"/search?sortby=" + url.QueryEscape("-nosuch"), "sortby"},
		{"/search?sortby=geometry", "sortby"},
		{"/search?fields=a..b", "fields"},
		{"/search?query=" + url.QueryEscape(`{"a":{"like":1}}`), "query"},
	} {
		r := do(t, o, "GET", srv.URL+tc.u, "")
		if r.status != 400 || !strings.Contains(r.json["description"].(string), tc.param) {
			t.Errorf("%s: %d %s", tc.u, r.status, r.body)
		}
	}
	s := do(t, nil, "GET", srv.URL+"/sortables", "")
	if s.status != 200 || s.json["properties"].(map[string]any)["eo:cloud_cover"] == nil {
		t.Errorf("sortables: %d %s", s.status, s.body)
	}
}
