//go:build gdal

package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/tessera-geo/tessera/internal/auth"
	"github.com/tessera-geo/tessera/internal/config"
)

// TestTilesAuthorization: a principal that cannot see an item gets no
// tiles of it, by item or through a mosaic of a search.
func TestTilesAuthorization(t *testing.T) {
	dir := t.TempDir()
	raw, cog := filepath.Join(dir, "raw.tif"), filepath.Join(dir, "cog.tif")
	for _, args := range [][]string{
		{"gdal_create", "-of", "GTiff", "-outsize", "256", "256", "-bands", "3", "-ot", "Byte", "-burn", "200",
			"-a_srs", "EPSG:4326", "-a_ullr", "10", "50", "11", "49", raw},
		{"gdal_translate", "-q", "-of", "COG", raw, cog},
	} {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	item := fmt.Sprintf(`{"type":"Feature","stac_version":"1.0.0","id":"cog-item","collection":%q,
		"geometry":{"type":"Polygon","coordinates":[[[10,49],[11,49],[11,50],[10,50],[10,49]]]},
		"properties":{"datetime":"2021-05-01T10:00:00Z"},
		"assets":{"visual":{"href":%q,"type":"image/tiff; application=geotiff; profile=cloud-optimized","roles":["visual"]}},"links":[]}`, colL8, cog)
	itemFile := filepath.Join(dir, "item.json")
	if err := os.WriteFile(itemFile, []byte(item), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, 0, func(c *config.Serve) {
		c.AuthAPIKeys = fmt.Sprintf(`[{"name":"s1","sha256":%q,"scopes":["read"],"collections":[%q]}]`, auth.HashAPIKey("s1"), colS1)
	}, itemFile)
	tile := srv.URL + "/collections/" + colL8 + "/items/cog-item/tiles/WebMercatorQuad/10/541/349.png?assets=visual"
	if r := do(t, nil, "GET", tile, ""); r.status != 200 {
		t.Fatalf("unrestricted tile: %d %.200s", r.status, r.body)
	}
	if r := do(t, nil, "GET", tile, "", "X-API-Key", "s1"); r.status != 404 {
		t.Fatalf("restricted principal got a tile of an invisible item: %d", r.status)
	}
	reg := do(t, nil, "POST", srv.URL+"/searches/register", `{"collections":["`+colL8+`"],"ids":["cog-item"]}`)
	id, _ := reg.json["id"].(string)
	if id == "" {
		t.Fatalf("register: %d %s", reg.status, reg.body)
	}
	for _, u := range []string{"/searches/" + id + "/tiles/WebMercatorQuad/10/541/349.png?assets=visual",
		"/collections/" + colL8 + "/tiles/WebMercatorQuad/10/541/349.png?assets=visual"} {
		if r := do(t, nil, "GET", srv.URL+u, ""); r.status != 200 {
			t.Fatalf("unrestricted mosaic %s: %d %.200s", u, r.status, r.body)
		}
		r := do(t, nil, "GET", srv.URL+u, "", "X-API-Key", "s1")
		// As for a collection that does not exist (no tile, 204).
		m := do(t, nil, "GET", srv.URL+"/collections/no-such/tiles/WebMercatorQuad/10/541/349.png?assets=visual", "", "X-API-Key", "s1")
		if r.status != m.status {
			t.Errorf("restricted mosaic %s: %d, a missing collection's: %d", u, r.status, m.status)
		}
		if r.status == 200 && r.header.Get("Content-Type") == "image/png" {
			img, err := png.Decode(bytes.NewReader(r.body))
			if err != nil {
				t.Fatal(err)
			}
			if _, _, _, a := img.At(128, 128).RGBA(); a != 0 {
				t.Fatalf("restricted mosaic %s shows the invisible item", u)
			}
		}
	}
}

// TestMosaicCachePerPrincipal: the per-tile search cache of mosaics is on
// with authorization, keyed by what the caller may see: two principals
// with access to different collections get different items from the same
// tile of the same search, whoever asks first, and again from the cache.
func TestMosaicCachePerPrincipal(t *testing.T) {
	l8File, _ := cogItem(t, "l8-item", "2031-05-01T10:00:00Z")
	raw, err := os.ReadFile(l8File)
	if err != nil {
		t.Fatal(err)
	}
	s1 := bytes.Replace(bytes.Replace(raw, []byte(`"landsat-8-l1"`), []byte(`"`+colS1+`"`), 1), []byte(`"l8-item"`), []byte(`"s1-item"`), 1)
	s1File := filepath.Join(t.TempDir(), "s1.json")
	if err := os.WriteFile(s1File, s1, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, 0, func(c *config.Serve) {
		c.AuthAPIKeys = fmt.Sprintf(`[{"name":"l8","sha256":%q,"scopes":["read"],"collections":[%q]},
			{"name":"s1","sha256":%q,"scopes":["read"],"collections":[%q]}]`, auth.HashAPIKey("l8"), colL8, auth.HashAPIKey("s1"), colS1)
	}, l8File, s1File)
	reg := do(t, nil, "POST", srv.URL+"/searches/register", `{"collections":["`+colL8+`","`+colS1+`"],"ids":["l8-item","s1-item"]}`)
	id, _ := reg.json["id"].(string)
	if id == "" {
		t.Fatalf("register: %d %s", reg.status, reg.body)
	}
	assets := srv.URL + "/searches/" + id + "/tiles/WebMercatorQuad/10/541/349/assets?exitwhenfull=false&skipcovered=false"
	ids := func(key string) []string {
		t.Helper()
		var hdr []string
		if key != "" {
			hdr = []string{"X-API-Key", key}
		}
		r := do(t, nil, "GET", assets, "", hdr...)
		var items []struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(r.body, &items); r.status != 200 || err != nil {
			t.Fatalf("assets as %q: %d %s", key, r.status, r.body)
		}
		var out []string
		for _, it := range items {
			out = append(out, it.ID)
		}
		sort.Strings(out)
		return out
	}
	for round := range 2 { // the second round answers from the cache
		for _, c := range []struct {
			key  string
			want []string
		}{{"", []string{"l8-item", "s1-item"}}, {"l8", []string{"l8-item"}}, {"s1", []string{"s1-item"}}} {
			if got := ids(c.key); !slices.Equal(got, c.want) {
				t.Errorf("round %d, key %q: items %v, want %v", round, c.key, got, c.want)
			}
		}
	}
}
