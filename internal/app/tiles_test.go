//go:build gdal

package app_test

import (
	"bytes"
	"fmt"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestTilesThroughServe renders tiles of a catalog item's COG and of a COG
// by URL through the whole serve stack (store → item → asset → GDAL → PNG).
func TestTilesThroughServe(t *testing.T) {
	itemFile, cog := cogItem(t, "cog-item", "2021-05-01T10:00:00Z")
	srv := newServer(t, 0, nil, itemFile)
	// z=10 tile over (10.5°E, 49.5°N).
	for name, u := range map[string]string{
		"item": srv.URL + "/collections/landsat-8-l1/items/cog-item/tiles/WebMercatorQuad/10/541/349.png?assets=visual",
		"cog":  srv.URL + "/cog/tiles/WebMercatorQuad/10/541/349.png?url=" + url.QueryEscape(cog),
	} {
		r := do(t, nil, "GET", u, "")
		if r.status != 200 || r.header.Get("Content-Type") != "image/png" {
			t.Fatalf("%s tile: %d %s %.200s", name, r.status, r.header.Get("Content-Type"), r.body)
		}
		img, err := png.Decode(bytes.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		c := img.At(128, 128)
		rr, gg, bb, aa := c.RGBA()
		if rr>>8 != 200 || gg>>8 != 100 || bb>>8 != 50 || aa>>8 != 255 {
			t.Fatalf("%s tile centre pixel = %d,%d,%d,%d; want the COG's 200,100,50", name, rr>>8, gg>>8, bb>>8, aa>>8)
		}
	}
	if r := do(t, nil, "GET", srv.URL+"/collections/landsat-8-l1/items/nope/tiles/WebMercatorQuad/10/541/349.png?assets=visual", ""); r.status != 404 {
		t.Fatalf("tile of a missing item: %d", r.status)
	}
	if r := do(t, nil, "GET", srv.URL+"/collections/landsat-8-l1/items/cog-item/tiles/WebMercatorQuad/10/1/1.png?assets=visual", ""); r.status != 404 {
		t.Fatalf("tile outside the data: %d", r.status)
	}
}

// cogItem writes a 512² RGB COG (constant 200,100,50 over 10–11°E,
// 49–50°N) and a landsat-8-l1 item whose visual asset is that COG; it
// returns the item file (for newServer) and the COG path.
func cogItem(t *testing.T, id, datetime string) (itemFile, cog string) {
	t.Helper()
	dir := t.TempDir()
	raw := filepath.Join(dir, "raw.tif")
	cog = filepath.Join(dir, "cog.tif")
	for _, args := range [][]string{
		{"gdal_create", "-of", "GTiff", "-outsize", "512", "512", "-bands", "3", "-ot", "Byte", "-burn", "200", "-burn", "100", "-burn", "50",
			"-a_srs", "EPSG:4326", "-a_ullr", "10", "50", "11", "49", raw},
		{"gdal_translate", "-q", "-of", "COG", raw, cog},
	} {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	item := fmt.Sprintf(`{"type":"Feature","stac_version":"1.0.0","id":%q,"collection":"landsat-8-l1",
		"geometry":{"type":"Polygon","coordinates":[[[10,49],[11,49],[11,50],[10,50],[10,49]]]},
		"properties":{"datetime":%q},
		"assets":{"visual":{"href":%q,"type":"image/tiff; application=geotiff; profile=cloud-optimized","roles":["visual"]}},"links":[]}`, id, datetime, cog)
	itemFile = filepath.Join(dir, "item.json")
	if err := os.WriteFile(itemFile, []byte(item), 0o644); err != nil {
		t.Fatal(err)
	}
	return itemFile, cog
}
