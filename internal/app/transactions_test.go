package app_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tessera-geo/tessera/internal/config"
)

func itemJSON(id, extra string) string {
	return fmt.Sprintf(`{"type":"Feature","stac_version":"1.0.0","id":%q,
		"geometry":{"type":"Polygon","coordinates":[[[10,49],[11,49],[11,50],[10,50],[10,49]]]},
		"properties":{"datetime":"2021-05-01T10:00:00Z","eo:cloud_cover":5%s},"assets":{},"links":[{"rel":"self","href":"http://elsewhere/x"}]}`, id, extra)
}

const newCollection = `{"type":"Collection","stac_version":"1.0.0","id":"tx","description":"transactions test","license":"CC0-1.0",
	"extent":{"spatial":{"bbox":[[-180,-90,180,90]]},"temporal":{"interval":[["2020-01-01T00:00:00Z",null]]}},"links":[]}`

func TestTransactions(t *testing.T) {
	srv := newServer(t, 0, func(c *config.Serve) { c.Transactions = true })
	o := loadOAS(t, srv)
	req := func(method, path, body string, hdr ...string) result {
		t.Helper()
		return do(t, o, method, srv.URL+path, body, hdr...)
	}
	expect := func(r result, status int, what string) {
		t.Helper()
		if r.status != status {
			t.Fatalf("%s: %d, want %d: %s", what, r.status, status, r.body)
		}
	}
	expect(req("POST", "/collections", newCollection), 201, "create collection")
	expect(req("POST", "/collections", newCollection), 409, "create it again")
	c := req("GET", "/collections/tx", "")
	expect(c, 200, "read collection")
	if c.header.Get("ETag") == "" {
		t.Fatal("collection has no ETag")
	}

	r := req("POST", "/collections/tx/items", itemJSON("a", ""))
	expect(r, 201, "create item")
	if loc := r.header.Get("Location"); loc != srv.URL+"/collections/tx/items/a" {
		t.Fatalf("Location %q", loc)
	}
	if len(links(r, "self")) != 1 || links(r, "self")[0]["href"] != srv.URL+"/collections/tx/items/a" {
		t.Fatalf("stored self link was not replaced: %v", r.json["links"])
	}
	if r.json["collection"] != "tx" {
		t.Fatalf("collection not set from the URL: %v", r.json["collection"])
	}
	created := r.json["properties"].(map[string]any)["created"]
	expect(req("POST", "/collections/tx/items", itemJSON("a", "")), 409, "create existing item")
	expect(req("POST", "/collections/nope/items", itemJSON("b", "")), 404, "create in missing collection")
	bad := strings.Replace(itemJSON("b", ""), `[10,49]]]`, `[10,48]]]`, 1)
	if r := req("POST", "/collections/tx/items", bad); r.status != 400 || !strings.Contains(r.json["description"].(string), "geometry") {
		t.Fatalf("unclosed ring: %d %s", r.status, r.body)
	}
	other := strings.Replace(itemJSON("b", ""), `"id":"b"`, `"id":"b","collection":"other"`, 1)
	expect(req("POST", "/collections/tx/items", other), 400, "item naming another collection")

	// Bulk: all or nothing.
	fc := `{"type":"FeatureCollection","features":[` + itemJSON("c1", "") + `,` + itemJSON("c2", "") + `]}`
	expect(req("POST", "/collections/tx/items", fc), 201, "create a feature collection")
	fcBad := `{"type":"FeatureCollection","features":[` + itemJSON("d1", "") + `,{"type":"Feature"}]}`
	if r := req("POST", "/collections/tx/items", fcBad); r.status != 400 || !strings.Contains(r.json["description"].(string), "features[1]") {
		t.Fatalf("bad feature in a collection: %d %s", r.status, r.body)
	}
	expect(req("GET", "/collections/tx/items/d1", ""), 404, "nothing of a refused feature collection is written")

	// PUT replaces and keeps created; ETag/If-Match.
	cur := req("GET", "/collections/tx/items/a", "")
	tag := cur.header.Get("ETag")
	expect(req("PUT", "/collections/tx/items/a", itemJSON("a", `,"v":2`), "If-Match", `"stale"`), 412, "PUT with a stale ETag")
	r = req("PUT", "/collections/tx/items/a", itemJSON("a", `,"v":2`), "If-Match", tag)
	expect(r, 200, "PUT")
	props := r.json["properties"].(map[string]any)
	if props["v"] != 2.0 || props["created"] != created {
		t.Fatalf("after PUT: v=%v created=%v (was %v)", props["v"], props["created"], created)
	}
	expect(req("PUT", "/collections/tx/items/zz", itemJSON("zz", "")), 404, "PUT of a missing item")
	expect(req("PUT", "/collections/tx/items/a", itemJSON("other-id", "")), 400, "PUT with another id")

	// PATCH: merge patch and JSON Patch.
	r = req("PATCH", "/collections/tx/items/a", `{"properties":{"eo:cloud_cover":42,"v":null}}`, "Content-Type", "application/merge-patch+json")
	expect(r, 200, "merge patch")
	props = r.json["properties"].(map[string]any)
	if props["eo:cloud_cover"] != 42.0 || props["v"] != nil {
		t.Fatalf("after merge patch: %v", props)
	}
	r = req("PATCH", "/collections/tx/items/a", `[{"op":"replace","path":"/properties/eo:cloud_cover","value":7}]`, "Content-Type", "application/json-patch+json")
	expect(r, 200, "JSON patch")
	if r.json["properties"].(map[string]any)["eo:cloud_cover"] != 7.0 {
		t.Fatalf("after JSON patch: %v", r.json["properties"])
	}
	expect(req("PATCH", "/collections/tx/items/a", `[{"op":"remove","path":"/nope"}]`, "Content-Type", "application/json-patch+json"), 400, "JSON patch that does not apply")
	expect(req("PATCH", "/collections/tx/items/a", `{"geometry":null}`, "Content-Type", "application/merge-patch+json"), 400, "patch that breaks the item")
	expect(req("PATCH", "/collections/tx/items/a", `x`, "Content-Type", "text/plain"), 415, "patch of unknown type")
	s := do(t, nil, "GET", srv.URL+"/search?collections=tx&filter=%22eo%3Acloud_cover%22%3D7", "")
	if len(s.json["features"].([]any)) != 1 {
		t.Fatalf("patched value not searchable: %s", s.body)
	}

	// Collections: PATCH, PUT, DELETE (with its items).
	r = req("PATCH", "/collections/tx", `{"title":"Renamed"}`)
	expect(r, 200, "patch collection")
	if r.json["title"] != "Renamed" {
		t.Fatalf("collection title %v", r.json["title"])
	}
	expect(req("PUT", "/collections/tx", strings.Replace(newCollection, `"id":"tx"`, `"id":"other"`, 1)), 400, "PUT collection with another id")
	expect(req("DELETE", "/collections/tx/items/c1", ""), 204, "delete item")
	expect(req("DELETE", "/collections/tx/items/c1", ""), 404, "delete it again")
	expect(req("DELETE", "/collections/tx", ""), 204, "delete collection")
	expect(req("GET", "/collections/tx/items/a", ""), 404, "items of a deleted collection")

	// Without --transactions, writes are refused.
	ro := newServer(t, 0, nil)
	if r := do(t, nil, "POST", ro.URL+"/collections", newCollection); r.status != 405 {
		t.Fatalf("POST /collections on a read-only server: %d", r.status)
	}
}
