//go:build gdal

package app_test

import (
	"bytes"
	"image/png"
	"testing"
)

// TestMosaicThroughServe registers a search and renders a mosaic tile
// through the whole serve stack (STAC API routes and tiler on one mux,
// the SQLite store as item finder and search registry).
func TestMosaicThroughServe(t *testing.T) {
	itemFile, _ := cogItem(t, "mosaic-item", "2031-05-01T10:00:00Z")
	srv := newServer(t, 0, nil, itemFile)
	reg := do(t, nil, "POST", srv.URL+"/searches/register", `{"collections":["landsat-8-l1"],"ids":["mosaic-item"],"metadata":{"name":"m"}}`)
	id, _ := reg.json["id"].(string)
	if reg.status != 200 || id == "" {
		t.Fatalf("register: %d %s", reg.status, reg.body)
	}
	for name, u := range map[string]string{
		"search":     srv.URL + "/searches/" + id + "/tiles/WebMercatorQuad/10/541/349.png?assets=visual",
		"collection": srv.URL + "/collections/landsat-8-l1/tiles/WebMercatorQuad/10/541/349.png?assets=visual",
	} {
		r := do(t, nil, "GET", u, "")
		if name == "collection" {
			// other demo items of the collection may lie under the tile; only check it renders
			if r.status != 200 && r.status != 204 {
				t.Fatalf("%s tile: %d %.200s", name, r.status, r.body)
			}
			continue
		}
		if r.status != 200 {
			t.Fatalf("%s tile: %d %.200s", name, r.status, r.body)
		}
		img, err := png.Decode(bytes.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		rr, gg, bb, _ := img.At(128, 128).RGBA()
		if rr>>8 != 200 || gg>>8 != 100 || bb>>8 != 50 {
			t.Fatalf("%s tile centre = %d,%d,%d; want 200,100,50", name, rr>>8, gg>>8, bb>>8)
		}
	}
	for _, c := range []struct {
		u      string
		status int
	}{
		{"/searches/" + id + "/info", 200},
		{"/searches/" + id + "/WebMercatorQuad/tilejson.json?assets=visual", 200},
		{"/collections/landsat-8-l1/WebMercatorQuad/tilejson.json?assets=visual", 200},
		{"/collections/landsat-8-l1/items/mosaic-item", 200}, // the STAC API route still answers
		{"/searches/unknown/info", 404},
		{"/searches/" + id + "/tiles/WebMercatorQuad/10/1/1.png?assets=visual", 204},
	} {
		if r := do(t, nil, "GET", srv.URL+c.u, ""); r.status != c.status {
			t.Fatalf("GET %s: %d %.200s; want %d", c.u, r.status, r.body, c.status)
		}
	}
}
