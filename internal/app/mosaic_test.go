//go:build gdal

package app_test

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestMosaicThroughServe registers a search and renders a mosaic tile
// through the whole serve stack (STAC API routes and tiler on one mux,
// the SQLite store as item finder and search registry).
func TestMosaicThroughServe(t *testing.T) {
	dir := t.TempDir()
	raw, cog := filepath.Join(dir, "raw.tif"), filepath.Join(dir, "cog.tif")
	for _, args := range [][]string{
		{"gdal_create", "-of", "GTiff", "-outsize", "512", "512", "-bands", "3", "-ot", "Byte", "-burn", "200", "-burn", "100", "-burn", "50",
			"-a_srs", "EPSG:4326", "-a_ullr", "10", "50", "11", "49", raw},
		{"gdal_translate", "-q", "-of", "COG", raw, cog},
	} {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	item := fmt.Sprintf(`{"type":"Feature","stac_version":"1.0.0","id":"mosaic-item","collection":"landsat-8-l1",
		"geometry":{"type":"Polygon","coordinates":[[[10,49],[11,49],[11,50],[10,50],[10,49]]]},
		"properties":{"datetime":"2031-05-01T10:00:00Z"},
		"assets":{"visual":{"href":%q,"type":"image/tiff; application=geotiff; profile=cloud-optimized","roles":["visual"]}},"links":[]}`, cog)
	itemFile := filepath.Join(dir, "item.json")
	if err := os.WriteFile(itemFile, []byte(item), 0o644); err != nil {
		t.Fatal(err)
	}
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
