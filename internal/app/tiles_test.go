//go:build gdal

package app_test

import (
	"bytes"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/pflag"

	"github.com/tessera-geo/tessera/internal/config"
	"github.com/tessera-geo/tessera/internal/tiles"
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

// TestTilesFromS3 reads a COG from an S3-compatible server (versitygw on
// loopback, through GDAL's /vsis3 with --s3-endpoint): its tiles equal the
// same file's read locally, an object that is not there is a 404 naming
// the source, and a bucket not on the allow-list is refused.
func TestTilesFromS3(t *testing.T) {
	bin := versitygw()
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("versitygw is required in CI (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)")
		}
		t.Skip("versitygw not installed")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "tessera-ak")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "tessera-sk")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	_, cog := cogItem(t, "s3-item", "2021-05-01T10:00:00Z")
	data, err := os.ReadFile(cog)
	if err != nil {
		t.Fatal(err)
	}
	endpoint := startS3(t, bin, map[string][]byte{"rasters/s2/cog.tif": data})
	srv := newServer(t, 0, func(c *config.Serve) {
		c.S3Endpoint = endpoint
		c.TilesAllowedBuckets = []string{"rasters"}
	})
	tile := srv.URL + "/cog/tiles/WebMercatorQuad/10/541/349.npy?url="
	local := do(t, nil, "GET", tile+url.QueryEscape(cog), "")
	remote := do(t, nil, "GET", tile+url.QueryEscape("s3://rasters/s2/cog.tif"), "")
	if local.status != 200 || remote.status != 200 {
		t.Fatalf("local %d, s3 %d %.300s", local.status, remote.status, remote.body)
	}
	if !bytes.Equal(local.body, remote.body) {
		t.Fatal("the tile read through s3:// differs from the local file's")
	}
	info := do(t, nil, "GET", srv.URL+"/cog/info?url="+url.QueryEscape("s3://rasters/s2/cog.tif"), "")
	if info.status != 200 || info.json["width"] != float64(512) {
		t.Fatalf("info: %d %.300s", info.status, info.body)
	}
	missing := do(t, nil, "GET", tile+url.QueryEscape("s3://rasters/s2/nope.tif"), "")
	if missing.status != 404 || !bytes.Contains(missing.body, []byte("nope.tif")) {
		t.Fatalf("missing object: %d %.300s", missing.status, missing.body)
	}
	if r := do(t, nil, "GET", tile+url.QueryEscape("s3://other/s2/cog.tif"), ""); r.status != 403 {
		t.Fatalf("bucket not allowed: %d %.300s", r.status, r.body)
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

// TestTilesTuningFlags: serve's tile flags reach the tile server and GDAL
// (a GDAL option sets the User-Agent of its HTTP reads; Cache-Control of
// tiles), and their defaults are the tile server's.
func TestTilesTuningFlags(t *testing.T) {
	var c config.Serve
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	c.AddFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	d := tiles.Defaults()
	if c.TilesGDALCacheMB != d.CacheMaxMB || c.TilesMaxSources != d.MaxSources || c.TilesHandlesPerSource != d.HandlesPerSource ||
		c.TilesLocalHandles != d.LocalHandlesPerSource || c.TilesWarpCacheMB != d.WarpCacheMB || c.TilesCacheControl != d.CacheControl {
		t.Errorf("flag defaults %+v differ from tiles.Defaults() %+v", c, d)
	}

	_, cog := cogItem(t, "ua-item", "2021-05-01T10:00:00Z")
	var (
		mu     sync.Mutex
		agents = map[string]bool{}
	)
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents[r.UserAgent()] = true
		mu.Unlock()
		http.ServeFile(w, r, cog)
	}))
	defer files.Close()
	srv := newServer(t, 0, func(c *config.Serve) {
		c.TilesAllowedHosts = []string{strings.TrimPrefix(files.URL, "http://")}
		c.TilesGDALOptions = []string{"GDAL_HTTP_USERAGENT=tessera-flag-test"}
		c.TilesCacheControl = "public, max-age=60"
		c.TilesMaxSources, c.TilesHandlesPerSource = 4, 2
	})
	r := do(t, nil, "GET", srv.URL+"/cog/tiles/WebMercatorQuad/10/541/349.png?url="+url.QueryEscape(files.URL+"/cog.tif"), "")
	if r.status != 200 || r.header.Get("Cache-Control") != "public, max-age=60" {
		t.Fatalf("tile: %d, Cache-Control %q: %.200s", r.status, r.header.Get("Cache-Control"), r.body)
	}
	mu.Lock()
	defer mu.Unlock()
	if !agents["tessera-flag-test"] || len(agents) != 1 {
		t.Fatalf("GDAL's requests came with User-Agents %v", agents)
	}
}
