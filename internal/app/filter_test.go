package app_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tessera-geo/tessera/internal/config"
)

func TestFilter(t *testing.T) {
	srv := newServer(t, 400, nil)
	o := loadOAS(t, srv)
	ids := func(r result) []string {
		var out []string
		for _, f := range r.json["features"].([]any) {
			out = append(out, f.(map[string]any)["id"].(string))
		}
		return out
	}
	text := `collection = 'landsat-8-l1' AND "eo:cloud_cover" < 50`
	js := `{"op":"and","args":[{"op":"=","args":[{"property":"collection"},"landsat-8-l1"]},{"op":"<","args":[{"property":"eo:cloud_cover"},50]}]}`
	get := do(t, o, "GET", srv.URL+"/search?filter="+url.QueryEscape(text), "")
	getJSON := do(t, o, "GET", srv.URL+"/search?filter-lang=cql2-json&filter="+url.QueryEscape(js), "")
	post := do(t, o, "POST", srv.URL+"/search", `{"filter":`+js+`}`)
	postText := do(t, o, "POST", srv.URL+"/search", `{"filter-lang":"cql2-text","filter":`+jsonString(text)+`}`)
	items := do(t, o, "GET", srv.URL+"/collections/landsat-8-l1/items?filter="+url.QueryEscape(`"eo:cloud_cover" < 50`), "")
	want := ids(get)
	if len(want) == 0 {
		t.Fatalf("filter matched nothing: %s", get.body)
	}
	for name, r := range map[string]result{"GET cql2-json": getJSON, "POST cql2-json": post, "POST cql2-text": postText, "items": items} {
		if r.status != 200 || !slices.Equal(ids(r), want) {
			t.Errorf("%s: %d %v, want %v", name, r.status, ids(r), want)
		}
	}

	// Paging through a filtered search returns each match once.
	seen := map[string]bool{}
	u := srv.URL + "/search?limit=7&filter=" + url.QueryEscape(`"eo:cloud_cover" < 20 AND platform = 'sentinel-2a'`)
	for u != "" {
		r := do(t, o, "GET", u, "")
		for _, id := range ids(r) {
			if seen[id] {
				t.Fatalf("%s twice", id)
			}
			seen[id] = true
		}
		u = ""
		if n := links(r, "next"); len(n) > 0 {
			u = n[0]["href"].(string)
		}
	}
	if len(seen) < 10 {
		t.Fatalf("filtered walk found only %d items", len(seen))
	}

	errs := []struct{ name, method, query, body, want string }{
		{"syntax error with position", "GET", "filter=" + url.QueryEscape(`"eo:cloud_cover" < `), "", "position"},
		{"bad json filter", "POST", "", `{"filter":{"op":"<","args":[1]}}`, "filter"},
		{"unknown property", "GET", "filter=" + url.QueryEscape(`"eo:cloud_covr" < 10`), "", "eo:cloud_covr"},
		{"bad filter-lang", "GET", "filter-lang=cql&filter=" + url.QueryEscape("id = 'a'"), "", "filter-lang"},
		{"bad filter-crs", "GET", "filter-crs=EPSG:4326&filter=" + url.QueryEscape("id = 'a'"), "", "filter-crs"},
		{"string filter declared json", "POST", "", `{"filter-lang":"cql2-json","filter":"id = 'a'"}`, "filter"},
		{"object filter declared text", "POST", "", `{"filter-lang":"cql2-text","filter":{"op":"=","args":[{"property":"id"},"a"]}}`, "filter"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			u := srv.URL + "/search"
			if tc.query != "" {
				u += "?" + tc.query
			}
			r := do(t, o, tc.method, u, tc.body)
			if r.status != 400 || !strings.Contains(r.json["description"].(string), tc.want) {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}

	q := do(t, nil, "GET", srv.URL+"/queryables", "")
	if ct := q.header.Get("Content-Type"); ct != "application/schema+json" {
		t.Fatalf("queryables content type %q", ct)
	}
	props := q.json["properties"].(map[string]any)
	for _, p := range []string{"id", "collection", "geometry", "datetime", "eo:cloud_cover", "platform", "s2:vegetation_percentage"} {
		if _, ok := props[p]; !ok {
			t.Errorf("queryables lack %s", p)
		}
	}
	cq := do(t, o, "GET", srv.URL+"/collections/sentinel-1-grd/queryables", "")
	if _, ok := cq.json["properties"].(map[string]any)["s2:vegetation_percentage"]; ok {
		t.Errorf("sentinel-1 queryables list a synthetic-only property")
	}
	if r := do(t, o, "GET", srv.URL+"/collections/nope/queryables", ""); r.status != 404 {
		t.Errorf("queryables of a missing collection: %d", r.status)
	}
	conf := do(t, o, "GET", srv.URL+"/conformance", "")
	if !slices.Contains(conf.json["conformsTo"].([]any), any("https://api.stacspec.org/v1.0.0/item-search#filter")) {
		t.Errorf("filter conformance not declared")
	}

	// Permissive servers accept unknown properties.
	perm := newServer(t, 0, func(c *config.Serve) { c.FilterPermissive = true })
	if r := do(t, nil, "GET", perm.URL+"/search?filter="+url.QueryEscape(`nosuch = 1`), ""); r.status != 200 || len(ids(r)) != 0 {
		t.Fatalf("permissive unknown property: %d %s", r.status, r.body)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestQueryablesFollowWrites: filters and sorts on a property are refused
// until an item holds it and accepted right after (the API caches the
// queryables it has seen, never the ones it has not).
func TestQueryablesFollowWrites(t *testing.T) {
	srv := newServer(t, 0, func(c *config.Serve) { c.Transactions = true })
	filter := srv.URL + "/search?filter=" + url.QueryEscape(`"tessera:fresh" > 1`)
	sorted := srv.URL + "/search?sortby=-tessera:fresh"
	for _, u := range []string{filter, sorted, filter, sorted} { // twice: the second answer may come from the cache
		if r := do(t, nil, "GET", u, ""); r.status != 400 {
			t.Fatalf("%s before any item has it: %d %s", u, r.status, r.body)
		}
	}
	item := `{"type":"Feature","stac_version":"1.0.0","id":"fresh-1","geometry":{"type":"Point","coordinates":[1,2]},
		"properties":{"datetime":"2021-01-01T00:00:00Z","tessera:fresh":5},"links":[],"assets":{}}`
	if r := do(t, nil, "POST", srv.URL+"/collections/"+colS1+"/items", item); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	for _, u := range []string{filter, sorted} {
		r := do(t, nil, "GET", u, "")
		if r.status != 200 || !strings.Contains(string(r.body), `"fresh-1"`) {
			t.Fatalf("%s right after the item: %d %.300s", u, r.status, r.body)
		}
	}
	// Another property is still refused.
	if r := do(t, nil, "GET", srv.URL+"/search?filter="+url.QueryEscape(`"tessera:other" > 1`), ""); r.status != 400 || !strings.Contains(string(r.body), "tessera:other") {
		t.Fatalf("unknown property: %d %s", r.status, r.body)
	}
}
