package app_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tessera-geo/tessera/internal/auth"
	"github.com/tessera-geo/tessera/internal/auth/authtest"
	"github.com/tessera-geo/tessera/internal/config"
)

const (
	colL8 = "landsat-8-l1"
	colS1 = "sentinel-1-grd"
	colS2 = "sentinel-s2-l2a-cogs-test"
)

// principal is one row of the matrix: how it authenticates and what it
// must see.
type principal struct {
	name string
	hdr  []string
	// equivalent are the search parameters an unrestricted client uses to
	// see exactly what this principal sees.
	equivalent  url.Values
	collections []string // visible collections
	canWrite    bool
	writeStatus int
}

func securedServer(t *testing.T) (srvURL string, rows []principal) {
	t.Helper()
	is := authtest.New(t)
	keys := fmt.Sprintf(`[{"name":"reader-s1","sha256":%q,"scopes":["read"],"collections":[%q]},
		{"name":"reader-2a","sha256":%q,"scopes":["read"],"filter":"platform = 'sentinel-2a'"}]`,
		auth.HashAPIKey("key-s1"), colS1, auth.HashAPIKey("key-2a"))
	srv := newServer(t, 0, func(c *config.Serve) {
		c.Transactions = true
		c.AuthAnonymous = "read"
		c.AuthAPIKeys = keys
		c.AuthJWKSURL, c.AuthIssuer, c.AuthAudience = is.URL, is.Name, is.Audience
	})
	writer := is.Token("ec-1", authtest.Claims{Subject: "writer", Extra: map[string]any{"scope": "write"}})
	all := []string{colL8, colS1, colS2}
	return srv.URL, []principal{
		{name: "anonymous", equivalent: url.Values{}, collections: all, writeStatus: 401},
		{name: "reader restricted to sentinel-1", hdr: []string{"X-API-Key", "key-s1"}, equivalent: url.Values{"collections": {colS1}}, collections: []string{colS1}, writeStatus: 403},
		{name: "reader with a filter", hdr: []string{"Authorization", "ApiKey key-2a"}, equivalent: url.Values{"filter": {"platform = 'sentinel-2a'"}}, collections: all, writeStatus: 403},
		{name: "writer", hdr: []string{"Authorization", "Bearer " + writer}, equivalent: url.Values{}, collections: all, canWrite: true, writeStatus: 201},
	}
}

// walkGET follows next links and returns the item ids ("collection/id").
func walkGET(t *testing.T, u string, hdr []string) (ids []string, matched float64) {
	t.Helper()
	for page := 0; u != "" && page < 200; page++ {
		r := do(t, nil, "GET", u, "", hdr...)
		if r.status != 200 {
			t.Fatalf("GET %s: %d %s", u, r.status, r.body)
		}
		if page == 0 {
			matched, _ = r.json["numberMatched"].(float64)
		}
		for _, f := range r.json["features"].([]any) {
			m := f.(map[string]any)
			ids = append(ids, m["collection"].(string)+"/"+m["id"].(string))
		}
		u = ""
		if n := links(r, "next"); len(n) > 0 {
			u = n[0]["href"].(string)
			assertNoLeak(t, u)
		}
	}
	sort.Strings(ids)
	return ids, matched
}

// walkPOST follows POST next links.
func walkPOST(t *testing.T, u, body string, hdr []string) []string {
	t.Helper()
	var ids []string
	for page := 0; page < 200; page++ {
		r := do(t, nil, "POST", u, body, hdr...)
		if r.status != 200 {
			t.Fatalf("POST %s %s: %d %s", u, body, r.status, r.body)
		}
		for _, f := range r.json["features"].([]any) {
			m := f.(map[string]any)
			ids = append(ids, m["collection"].(string)+"/"+m["id"].(string))
		}
		n := links(r, "next")
		if len(n) == 0 {
			break
		}
		b, _ := json.Marshal(n[0]["body"])
		assertNoLeak(t, string(b))
		var merged map[string]any
		_ = json.Unmarshal([]byte(body), &merged)
		for k, v := range n[0]["body"].(map[string]any) {
			merged[k] = v
		}
		nb, _ := json.Marshal(merged)
		body = string(nb)
	}
	sort.Strings(ids)
	return ids
}

// assertNoLeak fails when a link carries a restriction.
func assertNoLeak(t *testing.T, s string) {
	t.Helper()
	for _, bad := range []string{"sentinel-2a", "_collections", "_filter", "platform"} {
		if strings.Contains(s, bad) {
			t.Fatalf("link leaks the restriction (%s): %s", bad, s)
		}
	}
}

var reqID = regexp.MustCompile(`"requestId":"[^"]*"`)

func TestAuthorizationMatrix(t *testing.T) {
	base, rows := securedServer(t)
	admin := rows[3].hdr
	// The catalog as an unrestricted client sees it.
	allItems, _ := walkGET(t, base+"/search?limit=50", admin)
	if len(allItems) != demoItems {
		t.Fatalf("unrestricted search: %d items", len(allItems))
	}
	sample := map[string]string{} // collection → one item id
	for _, id := range allItems {
		c, i, _ := strings.Cut(id, "/")
		sample[c] = i
	}
	// What a 404 looks like for what does not exist.
	missingColl := do(t, nil, "GET", base+"/collections/no-such-collection", "", admin...)
	missingItem := do(t, nil, "GET", base+"/collections/no-such-collection/items/x", "", admin...)

	for _, p := range rows {
		t.Run(p.name, func(t *testing.T) {
			q := url.Values{"limit": {"7"}}
			for k, v := range p.equivalent {
				q[k] = v
			}
			want, _ := walkGET(t, base+"/search?"+q.Encode(), admin)
			visibleColl := func(c string) bool { return slices.Contains(p.collections, c) }
			visibleItem := func(ci string) bool { return slices.Contains(want, ci) }

			// /search GET and POST, all pages, and the count.
			got, matched := walkGET(t, base+"/search?limit=7", p.hdr)
			if !slices.Equal(got, want) {
				t.Fatalf("GET /search: %d items, want %d", len(got), len(want))
			}
			if matched != 0 && int(matched) != len(want) {
				t.Errorf("numberMatched %v, want %d", matched, len(want))
			}
			if got := walkPOST(t, base+"/search", `{"limit":9}`, p.hdr); !slices.Equal(got, want) {
				t.Fatalf("POST /search: %d items, want %d", len(got), len(want))
			}
			// A client naming every collection, or an invisible one, gains nothing.
			named, _ := walkGET(t, base+"/search?limit=50&collections="+colL8+","+colS1+","+colS2, p.hdr)
			if !slices.Equal(named, want) {
				t.Errorf("naming all collections: %d items, want %d", len(named), len(want))
			}

			// Landing children and /collections (listing and search).
			land := do(t, nil, "GET", base+"/", "", p.hdr...)
			var children []string
			for _, l := range links(land, "child") {
				children = append(children, l["href"].(string)[len(base+"/collections/"):])
			}
			sort.Strings(children)
			if !slices.Equal(children, p.collections) {
				t.Errorf("landing children %v, want %v", children, p.collections)
			}
			for _, u := range []string{"/collections", "/collections?limit=1", "/collections?q=sentinel,landsat", "/collections?bbox=-180,-90,180,90&limit=1"} {
				var ids []string
				next := base + u
				var nm float64
				for i := 0; next != "" && i < 10; i++ {
					r := do(t, nil, "GET", next, "", p.hdr...)
					if r.status != 200 {
						t.Fatalf("%s: %d %s", u, r.status, r.body)
					}
					if i == 0 {
						nm, _ = r.json["numberMatched"].(float64)
					}
					for _, c := range r.json["collections"].([]any) {
						ids = append(ids, c.(map[string]any)["id"].(string))
					}
					next = ""
					if n := links(r, "next"); len(n) > 0 {
						next = n[0]["href"].(string)
					}
				}
				sort.Strings(ids)
				if !slices.Equal(ids, p.collections) || int(nm) != len(p.collections) {
					t.Errorf("%s: %v (matched %v), want %v", u, ids, nm, p.collections)
				}
			}

			for _, c := range []string{colL8, colS1, colS2} {
				item := sample[c]
				routes := []string{"/collections/" + c, "/collections/" + c + "/items", "/collections/" + c + "/queryables",
					"/collections/" + c + "/sortables", "/collections/" + c + "/aggregations", "/collections/" + c + "/aggregate?aggregations=total_count"}
				for _, rt := range routes {
					r := do(t, nil, "GET", base+rt, "", p.hdr...)
					if visibleColl(c) != (r.status == 200) {
						t.Errorf("%s: status %d, visible %v", rt, r.status, visibleColl(c))
					}
					if r.status == 404 {
						// Indistinguishable from a collection that does not exist.
						wantBody := strings.ReplaceAll(string(missingColl.body), "no-such-collection", c)
						if reqID.ReplaceAllString(string(r.body), "") != reqID.ReplaceAllString(wantBody, "") {
							t.Errorf("%s: 404 body %s differs from a missing collection's %s", rt, r.body, wantBody)
						}
					}
				}
				// Items of the collection, and one item.
				if visibleColl(c) {
					ids, _ := walkGET(t, base+"/collections/"+c+"/items?limit=50", p.hdr)
					var wantC []string
					for _, id := range want {
						if strings.HasPrefix(id, c+"/") {
							wantC = append(wantC, id)
						}
					}
					if !slices.Equal(ids, wantC) {
						t.Errorf("/collections/%s/items: %d items, want %d", c, len(ids), len(wantC))
					}
					agg := do(t, nil, "GET", base+"/collections/"+c+"/aggregate?aggregations=total_count", "", p.hdr...)
					if v := agg.json["aggregations"].([]any)[0].(map[string]any)["value"].(float64); int(v) != len(wantC) {
						t.Errorf("%s total_count %v, want %d", c, v, len(wantC))
					}
				}
				r := do(t, nil, "GET", base+"/collections/"+c+"/items/"+item, "", p.hdr...)
				if visibleItem(c+"/"+item) != (r.status == 200) {
					t.Errorf("item %s/%s: status %d", c, item, r.status)
				}
				if r.status == 404 && !visibleColl(c) {
					wantBody := strings.ReplaceAll(string(missingItem.body), "no-such-collection", c)
					if reqID.ReplaceAllString(string(r.body), "") != reqID.ReplaceAllString(wantBody, "") {
						t.Errorf("item 404 body %s differs from %s", r.body, wantBody)
					}
				}
			}
			// Aggregations over everything count only what is visible.
			agg := do(t, nil, "GET", base+"/aggregate?aggregations=total_count,collection_frequency", "", p.hdr...)
			aggs := agg.json["aggregations"].([]any)
			if v := aggs[0].(map[string]any)["value"].(float64); int(v) != len(want) {
				t.Errorf("total_count %v, want %d", v, len(want))
			}
			for _, b := range aggs[1].(map[string]any)["buckets"].([]any) {
				if k := b.(map[string]any)["key"].(string); !visibleColl(k) {
					t.Errorf("collection_frequency reveals %s", k)
				}
			}
			postAgg := do(t, nil, "POST", base+"/aggregate", `{"aggregations":["total_count"],"collections":["`+colS2+`"]}`, p.hdr...)
			var wantS2 int
			for _, id := range want {
				if strings.HasPrefix(id, colS2+"/") {
					wantS2++
				}
			}
			if v := postAgg.json["aggregations"].([]any)[0].(map[string]any)["value"].(float64); int(v) != wantS2 {
				t.Errorf("POST /aggregate on %s: %v, want %d", colS2, v, wantS2)
			}
			// Queryables and sortables of everything answer.
			for _, rt := range []string{"/queryables", "/sortables", "/aggregations"} {
				if r := do(t, nil, "GET", base+rt, "", p.hdr...); r.status != 200 {
					t.Errorf("%s: %d", rt, r.status)
				}
			}

			// Writes.
			it := itemJSON("authz-"+strings.ReplaceAll(p.name, " ", "-"), `,"platform":"sentinel-2a"`)
			w := do(t, nil, "POST", base+"/collections/"+colS2+"/items", it, p.hdr...)
			if w.status != p.writeStatus {
				t.Errorf("write: %d %s, want %d", w.status, w.body, p.writeStatus)
			}
			if w.status == 401 && w.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if p.canWrite {
				if d := do(t, nil, "DELETE", base+"/collections/"+colS2+"/items/authz-writer", "", p.hdr...); d.status != 204 {
					t.Errorf("delete: %d %s", d.status, d.body)
				}
			}
		})
	}
}
