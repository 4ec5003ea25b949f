package app_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestCollectionSearchAndFreeText(t *testing.T) {
	srv := newServer(t, 50, nil)
	o := loadOAS(t, srv)
	ids := func(r result) []string {
		var out []string
		for _, c := range r.json["collections"].([]any) {
			out = append(out, c.(map[string]any)["id"].(string))
		}
		return out
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"q=landsat", []string{"landsat-8-l1"}},
		// Sentinel-1 is "Synthetic Aperture Radar".
		{"q=" + url.QueryEscape("sentinel -synthetic"), []string{"sentinel-s2-l2a-cogs-test"}},
		// The synthetic collection's extent stops at 60°S; the others are global.
		{"bbox=170,-80,-170,-70", []string{"landsat-8-l1", "sentinel-1-grd", "sentinel-s2-l2a-cogs-test"}},
		{"bbox=170,-50,-170,-40", []string{"landsat-8-l1", "sentinel-1-grd", "sentinel-2-synthetic", "sentinel-s2-l2a-cogs-test"}},
		{"datetime=" + url.QueryEscape("../2014-01-01T00:00:00Z"), []string{"landsat-8-l1"}},
		{"filter=" + url.QueryEscape("license = 'CC0-1.0'"), []string{"sentinel-2-synthetic"}},
		{"sortby=-id&limit=2", []string{"sentinel-s2-l2a-cogs-test", "sentinel-2-synthetic"}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			r := do(t, o, "GET", srv.URL+"/collections?"+tc.query, "")
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if got := ids(r); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	// Paging a collection search.
	var all []string
	u := srv.URL + "/collections?sortby=id&limit=1&q=" + url.QueryEscape("sentinel,landsat")
	for u != "" {
		r := do(t, o, "GET", u, "")
		all = append(all, ids(r)...)
		u = ""
		if n := links(r, "next"); len(n) > 0 {
			u = n[0]["href"].(string)
		}
	}
	if len(all) != 4 || !slices.IsSorted(all) {
		t.Fatalf("paged collection search: %v", all)
	}
	f := do(t, o, "GET", srv.URL+"/collections?fields=id,title&q=landsat", "")
	c0 := f.json["collections"].([]any)[0].(map[string]any)
	if _, ok := c0["extent"]; ok || c0["title"] == nil {
		t.Fatalf("fields on collections: %v", c0)
	}
	for _, bad := range []string{"bbox=1,2", "q=" + url.QueryEscape(`"open`), "filter=" + url.QueryEscape("license ="), "token=bad"} {
		if r := do(t, o, "GET", srv.URL+"/collections?"+bad, ""); r.status != 400 {
			t.Errorf("%s: %d %s", bad, r.status, r.body)
		}
	}
	// Free text on items.
	r := do(t, o, "GET", srv.URL+"/search?limit=200&q="+url.QueryEscape("LC80100102015050LGN00"), "")
	if got := r.json["features"].([]any); len(got) != 1 {
		t.Fatalf("free text by id: %d", len(got))
	}
	p := do(t, o, "POST", srv.URL+"/search", `{"limit":200,"q":["LC80100102015050LGN00","LC80100102015082LGN00"]}`)
	if got := p.json["features"].([]any); len(got) != 2 {
		t.Fatalf("POST q array: %d", len(got))
	}
	if r := do(t, o, "GET", srv.URL+"/search?q="+url.QueryEscape(`"unterminated`), ""); r.status != 400 || !strings.Contains(r.json["description"].(string), "q") {
		t.Fatalf("bad q: %d %s", r.status, r.body)
	}
}
