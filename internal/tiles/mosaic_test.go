//go:build gdal

package tiles_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tessera-geo/tessera/internal/raster"
	"github.com/tessera-geo/tessera/internal/raster/gdal"
	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
	"github.com/tessera-geo/tessera/internal/store/sqlite"
	"github.com/tessera-geo/tessera/internal/tiles"
	"github.com/tessera-geo/tessera/internal/tms"
)

// countingReader counts ReadWindow calls and can slow them down.
type countingReader struct {
	raster.Reader
	reads atomic.Int64
	delay atomic.Int64 // ns
}

func (c *countingReader) Open(ctx context.Context, href string, o raster.OpenOptions) (raster.Dataset, error) {
	ds, err := c.Reader.Open(ctx, href, o)
	if err != nil {
		return nil, err
	}
	return countingDS{ds, c}, nil
}

// TransformBounds passes the GDAL reader's through.
func (c *countingReader) TransformBounds(ctx context.Context, b [4]float64, from, to string) ([4]float64, error) {
	return c.Reader.(tiles.BoundsTransformer).TransformBounds(ctx, b, from, to)
}

type countingDS struct {
	raster.Dataset
	c *countingReader
}

func (d countingDS) ReadWindow(ctx context.Context, w raster.Window) (*raster.Image, error) {
	d.c.reads.Add(1)
	time.Sleep(time.Duration(d.c.delay.Load()))
	return d.Dataset.ReadWindow(ctx, w)
}

// mosaicFixture is a 15-item collection of small UTM COGs with overlapping
// footprints (some with nodata) in a real SQLite store.
type mosaicFixture struct {
	srcs   []string // by item index; item i has datetime 2024-01-(i+1)
	center [2]float64
	item14 [2]float64 // centre of the newest item (fully valid)
	gdal   *gdal.Reader
}

const mosaicItems = 15

func itemValue(i int) func(b, x, y int) float64 {
	return func(b, x, y int) float64 {
		if b == 0 {
			return float64(1000 + i*100 + (x+y)%50)
		}
		return float64((x*7+y*3+i*37)%200 + 1)
	}
}

func buildMosaicFixture(t testing.TB, dir string) (*mosaicFixture, string) {
	t.Helper()
	ctx := context.Background()
	fx := &mosaicFixture{}
	r, err := gdal.New(gdal.Config{MaxSources: 64, HandlesPerSource: 4}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	fx.gdal = r
	dbPath := filepath.Join(dir, "catalog.db")
	db, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	col, err := stac.DecodeCollection([]byte(`{"type":"Collection","stac_version":"1.0.0","id":"mos","description":"mosaic test","license":"CC0-1.0",
		"extent":{"spatial":{"bbox":[[-180,-90,180,90]]},"temporal":{"interval":[[null,null]]}},"links":[]}`), stac.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutCollection(ctx, col, store.Upsert); err != nil {
		t.Fatal(err)
	}
	nodata := 0.0
	var items []stac.Item
	geoAll := [4]float64{180, 90, -180, -90}
	for i := 0; i < mosaicItems; i++ {
		minx, miny := 500000+float64(i%5)*1500, 4890000+float64(i/5)*1500
		spec := cogSpec{name: fmt.Sprintf("s%02d", i), w: 64, h: 64, bands: 2, dt: raster.Uint16, epsg: 32631,
			bounds: [4]float64{minx, miny, minx + 6400, miny + 6400}, value: itemValue(i)}
		if i%4 == 1 { // nodata on the left third and a bite at the top right
			spec.nodata = &nodata
			spec.valid = func(x, y int) bool { return x >= 20 && !(x > 44 && y < 16) }
		}
		src := makeCOG(t, dir, spec)
		fx.srcs = append(fx.srcs, src)
		var info struct {
			WGS84Extent struct {
				Coordinates [][][2]float64 `json:"coordinates"`
			} `json:"wgs84Extent"`
		}
		if err := json.Unmarshal([]byte(run(t, "gdalinfo", "-json", src)), &info); err != nil {
			t.Fatal(err)
		}
		ring := info.WGS84Extent.Coordinates[0]
		gb := [4]float64{180, 90, -180, -90}
		for _, c := range ring {
			gb = [4]float64{math.Min(gb[0], c[0]), math.Min(gb[1], c[1]), math.Max(gb[2], c[0]), math.Max(gb[3], c[1])}
		}
		geoAll = [4]float64{math.Min(geoAll[0], gb[0]), math.Min(geoAll[1], gb[1]), math.Max(geoAll[2], gb[2]), math.Max(geoAll[3], gb[3])}
		if i == 14 {
			fx.item14 = [2]float64{(gb[0] + gb[2]) / 2, (gb[1] + gb[3]) / 2}
		}
		geomJSON, _ := json.Marshal(map[string]any{"type": "Polygon", "coordinates": [][][2]float64{ring}})
		doc := fmt.Sprintf(`{"type":"Feature","stac_version":"1.0.0","id":"it%02[1]d","collection":"mos","geometry":%[2]s,
			"properties":{"datetime":"2024-01-%02[4]dT10:00:00Z"},
			"assets":{"data":{"href":%[3]q,"type":"image/tiff; application=geotiff; profile=cloud-optimized","roles":["data"]},
			"nir":{"href":%[3]q,"type":"image/tiff; application=geotiff; profile=cloud-optimized","roles":["data"]}},"links":[]}`,
			i, geomJSON, src, i+1)
		it, err := stac.DecodeItem([]byte(doc), stac.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}
	errs, err := db.PutItems(ctx, items, store.Upsert)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		if e != nil {
			t.Fatal(e)
		}
	}
	fx.center = [2]float64{(geoAll[0] + geoAll[2]) / 2, (geoAll[1] + geoAll[3]) / 2}
	return fx, dbPath
}

// newMosaicServer serves the fixture's catalog through a counting reader.
func newMosaicServer(t testing.TB, fx *mosaicFixture, dbPath string, mut func(*tiles.Config)) (*httptest.Server, *countingReader) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := tiles.Defaults()
	if mut != nil {
		mut(&cfg)
	}
	cr := &countingReader{Reader: fx.gdal}
	s, err := tiles.New(cfg, tiles.Deps{Reader: cr, Finder: tiles.StoreFinder{Searcher: db}, Searches: db})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	s.Register(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() { ts.Close(); _ = db.Close() })
	return ts, cr
}

// TestMosaic runs the mosaic tests over one fixture.
func TestMosaic(t *testing.T) {
	dir := t.TempDir()
	fx, dbPath := buildMosaicFixture(t, dir)
	t.Cleanup(func() { _ = fx.gdal.Close() })
	t.Run("pixel selection", func(t *testing.T) { testMosaicPixelSelection(t, fx, dbPath, true) })
	t.Run("pixel selection clipped reads", func(t *testing.T) { testMosaicPixelSelection(t, fx, dbPath, false) })
	t.Run("early exit", func(t *testing.T) { testMosaicEarlyExit(t, fx, dbPath) })
	t.Run("limits and errors", func(t *testing.T) { testMosaicLimitsAndErrors(t, fx, dbPath) })
	t.Run("image routes", func(t *testing.T) { testMosaicImages(t, fx, dbPath) })
	t.Run("other tile matrix sets", func(t *testing.T) { testMosaicOtherTMS(t, fx, dbPath) })
}

func register(t testing.TB, base, body string) string {
	t.Helper()
	resp, err := http.Post(base+"/searches/register", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		ID    string `json:"id"`
		Links []struct {
			Rel  string `json:"rel"`
			Href string `json:"href"`
		} `json:"links"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || out.ID == "" {
		t.Fatalf("register %s: %d %v %+v", body, resp.StatusCode, err, out)
	}
	rels := map[string]bool{}
	for _, l := range out.Links {
		rels[l.Rel] = true
	}
	for _, r := range []string{"tilejson", "map", "metadata", "wmts"} {
		if !rels[r] {
			t.Errorf("register: no %s link in %+v", r, out.Links)
		}
	}
	return out.ID
}

// reference computes a pixel-selection method directly: every source read
// into the tile grid (newest item first, the store's order), then the
// method applied per pixel with plain code.
func reference(t *testing.T, fx *mosaicFixture, method, tmsID string, tile tms.Tile) (bands [][]float64, valid []bool) {
	t.Helper()
	set, _ := tms.Default()
	tg, _ := set.Get(tmsID)
	b, err := tg.Bounds(tile)
	if err != nil {
		t.Fatal(err)
	}
	const n = 256 * 256
	var imgs []*raster.Image
	for i := mosaicItems - 1; i >= 0; i-- {
		ds, err := fx.gdal.Open(context.Background(), fx.srcs[i], raster.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		img, err := ds.ReadWindow(context.Background(), raster.Window{CRS: tg.SRS(), Bounds: b, Width: 256, Height: 256, Resampling: raster.Nearest})
		if err != nil {
			continue // outside
		}
		imgs = append(imgs, img)
	}
	out := [][]float64{make([]float64, n), make([]float64, n)}
	valid = make([]bool, n)
	for p := 0; p < n; p++ {
		var s1, s2 []float64
		for _, img := range imgs {
			if img.Valid(p) {
				s1 = append(s1, img.Bands[0][p])
				s2 = append(s2, img.Bands[1][p])
			}
		}
		if method == "count" {
			out[0][p], valid[p] = float64(len(s1)), true
			continue
		}
		if len(s1) == 0 {
			continue
		}
		valid[p] = true
		pick := func(better func(a, b float64) bool) int {
			k := 0
			for j := range s2 {
				if better(s2[j], s2[k]) {
					k = j
				}
			}
			return k
		}
		for bi, s := range [][]float64{s1, s2} {
			var v float64
			switch method {
			case "first":
				v = s[0]
			case "highest":
				v = slices.Max(s)
			case "lowest":
				v = slices.Min(s)
			case "mean", "stdev":
				var sum float64
				for _, x := range s {
					sum += x
				}
				mu := sum / float64(len(s))
				v = math.Trunc(mu)
				if method == "stdev" {
					var ss float64
					for _, x := range s {
						ss += (x - mu) * (x - mu)
					}
					v = math.Sqrt(ss / float64(len(s)))
				}
			case "median":
				c := slices.Clone(s)
				sort.Float64s(c)
				if len(c)%2 == 1 {
					v = c[len(c)/2]
				} else {
					v = math.Trunc((c[len(c)/2-1] + c[len(c)/2]) / 2)
				}
			case "lastbandhigh":
				v = s[pick(func(a, b float64) bool { return a > b })]
			case "lastbandlow":
				v = s[pick(func(a, b float64) bool { return a < b })]
			}
			out[bi][p] = v
		}
	}
	switch method {
	case "count":
		out = out[:1]
	case "lastbandhigh", "lastbandlow":
		out = out[:1]
	}
	return out, valid
}

// testMosaicPixelSelection compares every method with the reference. With
// full-window reads the result must match exactly; with clipped reads (the
// default) GDAL's approximate transformer may pick a neighbouring source
// pixel for a few pixels (see MosaicConfig.FullWindowReads): at most 1%.
func testMosaicPixelSelection(t *testing.T, fx *mosaicFixture, dbPath string, full bool) {
	ts, _ := newMosaicServer(t, fx, dbPath, func(c *tiles.Config) { c.Mosaic.FullWindowReads = full })
	id := register(t, ts.URL, `{"collections":["mos"],"metadata":{"name":"all"}}`)
	var tilesToCheck []tms.Tile
	for _, z := range []int{11, 12, 13} {
		x, y := lonLatTile(fx.center[0], fx.center[1], z)
		tilesToCheck = append(tilesToCheck, tms.Tile{Z: z, X: x, Y: y})
	}
	for _, method := range []string{"first", "highest", "lowest", "mean", "median", "stdev", "count", "lastbandlow", "lastbandhigh"} {
		for _, tile := range tilesToCheck {
			t.Run(fmt.Sprintf("%s/%s", method, tile), func(t *testing.T) {
				checkMosaicTile(t, fx, ts.URL+"/searches/"+id, "WebMercatorQuad", tile, method, full)
			})
		}
	}
}

// checkMosaicTile compares a mosaic tile with the reference. With
// full-window reads the result must match exactly; with clipped reads at
// most 1% of the pixels may differ.
func checkMosaicTile(t *testing.T, fx *mosaicFixture, base, tmsID string, tile tms.Tile, method string, full bool) {
	t.Helper()
	u := fmt.Sprintf("%s/tiles/%s/%d/%d/%d.npy?assets=data&pixel_selection=%s&exitwhenfull=false&skipcovered=false",
		base, tmsID, tile.Z, tile.X, tile.Y, method)
	resp, body := get(t, u)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	shape, planes := npy(t, body)
	want, valid := reference(t, fx, method, tmsID, tile)
	if shape[0] != len(want)+1 {
		t.Fatalf("shape %v, want %d bands + mask", shape, len(want))
	}
	nValid, bad := 0, 0
	for p := range valid {
		gotValid := planes[len(want)][p] != 0
		if gotValid != valid[p] {
			bad++
			if bad < 5 && full {
				t.Errorf("pixel %d valid=%v, want %v", p, gotValid, valid[p])
			}
			continue
		}
		if !valid[p] {
			continue
		}
		nValid++
		for b := range want {
			if math.Abs(planes[b][p]-want[b][p]) > 1e-4 {
				bad++
				if bad < 5 && full {
					t.Errorf("band %d pixel %d = %v, want %v", b, p, planes[b][p], want[b][p])
				}
			}
		}
	}
	if full && bad > 0 || bad > len(valid)/100 {
		t.Fatalf("%d bad pixels", bad)
	}
	if nValid == 0 {
		t.Fatal("no valid pixel: the tile misses the fixture")
	}
}

// testMosaicOtherTMS: tiles of geographic and projected (UTM, LAEA) tile
// matrix sets find their items through the window's footprint in CRS84
// and match the reference.
func testMosaicOtherTMS(t *testing.T, fx *mosaicFixture, dbPath string) {
	ts, _ := newMosaicServer(t, fx, dbPath, func(c *tiles.Config) { c.Mosaic.FullWindowReads = true })
	id := register(t, ts.URL, `{"collections":["mos"]}`)
	set, _ := tms.Default()
	for _, tmsID := range []string{"WorldCRS84Quad", "UTM31WGS84Quad", "EuropeanETRS89_LAEAQuad"} {
		t.Run(tmsID, func(t *testing.T) {
			tg, err := set.Get(tmsID)
			if err != nil {
				t.Fatal(err)
			}
			// the fixture's centre in the set's CRS
			cmd := exec.Command("gdaltransform", "-s_srs", "EPSG:4326", "-t_srs", tg.SRS())
			cmd.Stdin = strings.NewReader(fmt.Sprintf("%.10f %.10f\n", fx.center[0], fx.center[1]))
			out, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			var cx, cy float64
			if _, err := fmt.Sscan(string(out), &cx, &cy); err != nil {
				t.Fatal(err)
			}
			// the first zoom whose tiles are under 10 km wide
			metres := 1.0
			if tg.SRS() == "EPSG:4326" {
				metres = 111320
			}
			z := 0
			for z < tg.MaxZoom() {
				m, _ := tg.Matrix(z)
				if m.CellSize*float64(m.TileWidth)*metres < 10000 {
					break
				}
				z++
			}
			rg, err := tg.TileRange(z, [4]float64{cx, cy, cx, cy})
			if err != nil {
				t.Fatal(err)
			}
			tile := tms.Tile{Z: z, X: rg.MinX, Y: rg.MinY}
			base := ts.URL + "/searches/" + id
			resp, body := get(t, fmt.Sprintf("%s/tiles/%s/%s/assets?exitwhenfull=false&skipcovered=false", base, tmsID, tile))
			var items []map[string]any
			if err := json.Unmarshal(body, &items); err != nil || resp.StatusCode != 200 || len(items) < 3 {
				t.Fatalf("tile %s: %d, %d items: %.200s", tile, resp.StatusCode, len(items), body)
			}
			for _, method := range []string{"first", "mean"} {
				t.Run(method, func(t *testing.T) { checkMosaicTile(t, fx, base, tmsID, tile, method, true) })
			}
		})
	}
}

func mosaicHeader(t *testing.T, h http.Header) (found, read int) {
	t.Helper()
	if _, err := fmt.Sscanf(h.Get(tiles.HeaderMosaicItems), "found=%d, read=%d", &found, &read); err != nil {
		t.Fatalf("%s: %q: %v", tiles.HeaderMosaicItems, h.Get(tiles.HeaderMosaicItems), err)
	}
	return found, read
}

func testMosaicEarlyExit(t *testing.T, fx *mosaicFixture, dbPath string) {
	ts, cr := newMosaicServer(t, fx, dbPath, func(c *tiles.Config) { c.Mosaic.Concurrency = 2; c.Mosaic.CacheTTL = 0 })
	id := register(t, ts.URL, `{"collections":["mos"]}`)
	x, y := lonLatTile(fx.item14[0], fx.item14[1], 14)
	tile := fmt.Sprintf("%s/searches/%s/tiles/WebMercatorQuad/14/%d/%d", ts.URL, id, x, y)
	// every item intersecting the tile
	resp, body := get(t, tile+"/assets?exitwhenfull=false&skipcovered=false")
	var all []map[string]any
	if err := json.Unmarshal(body, &all); err != nil || resp.StatusCode != 200 {
		t.Fatalf("assets: %d %s", resp.StatusCode, body)
	}
	if len(all) < 3 {
		t.Fatalf("the tile should intersect several items, got %d", len(all))
	}
	if all[0]["id"] != "it14" {
		t.Fatalf("first item %v, want the newest it14", all[0]["id"])
	}
	t.Run("footprints cover the tile", func(t *testing.T) {
		// exitwhenfull (the default for first): the search stops at it14
		resp, body := get(t, tile+"/assets")
		var used []map[string]any
		_ = json.Unmarshal(body, &used)
		if resp.StatusCode != 200 || len(used) != 1 {
			t.Fatalf("assets with exitwhenfull: %d %d items", resp.StatusCode, len(used))
		}
		before := cr.reads.Load()
		resp, _ = get(t, tile+".npy?assets=data")
		if resp.StatusCode != 200 {
			t.Fatalf("tile: %d", resp.StatusCode)
		}
		if n := cr.reads.Load() - before; n != 1 {
			t.Fatalf("read %d items, want 1 of %d", n, len(all))
		}
	})
	t.Run("pixels fill the tile", func(t *testing.T) {
		// without footprint checks the search returns every item, the
		// first method is done after it14 and the reads stop
		before := cr.reads.Load()
		resp, _ := get(t, tile+".npy?assets=data&exitwhenfull=false&skipcovered=false")
		if resp.StatusCode != 200 {
			t.Fatalf("tile: %d", resp.StatusCode)
		}
		found, read := mosaicHeader(t, resp.Header)
		n := int(cr.reads.Load() - before)
		if found != len(all) || read != 1 || n >= found || n > 1+2 {
			t.Fatalf("found %d read %d, %d reads started; want read 1 and fewer than %d reads", found, read, n, len(all))
		}
	})
	t.Run("mean reads everything", func(t *testing.T) {
		resp, _ := get(t, tile+".npy?assets=data&pixel_selection=mean")
		found, read := mosaicHeader(t, resp.Header)
		if found != len(all) || read != found {
			t.Fatalf("found %d read %d", found, read)
		}
	})
}

func testMosaicLimitsAndErrors(t *testing.T, fx *mosaicFixture, dbPath string) {
	ts, cr := newMosaicServer(t, fx, dbPath, func(c *tiles.Config) { c.Mosaic.Concurrency = 1 })
	id := register(t, ts.URL, `{"collections":["mos"]}`)
	if again := register(t, ts.URL, `{"collections":["mos"]}`); again != id {
		t.Fatalf("registering twice gave %s and %s", id, again)
	}
	if again := register(t, ts.URL, `{"metadata":null, "collections":["mos","mos"]}`); again != id {
		t.Fatalf("an equivalent search gave %s, want %s", again, id)
	}
	if other := register(t, ts.URL, `{"collections":["mos"],"metadata":{"name":"x"}}`); other == id {
		t.Fatal("different metadata, same id")
	}
	filtered := register(t, ts.URL, `{"collections":["mos"],"filter-lang":"cql2-text","filter":"id IN ('it03','it04')","sortby":"-datetime"}`)
	x, y := lonLatTile(fx.center[0], fx.center[1], 12)
	path := fmt.Sprintf("/tiles/WebMercatorQuad/12/%d/%d", x, y)
	cases := []struct {
		name, url string
		status    int
		contains  string
	}{
		{"tile", "/searches/" + id + path + ".png?assets=data&asset_bidx=data|1&rescale=0,3000", 200, ""},
		{"collection tile", "/collections/mos" + path + ".png?assets=data&asset_bidx=data|1&rescale=0,3000", 200, ""},
		{"expression", "/searches/" + id + path + ".npy?expression=" + "(data_b1-data_b2)/(data_b1%2Bdata_b2)" + "&pixel_selection=highest", 200, ""},
		{"asset_bidx", "/searches/" + id + path + ".npy?assets=data&asset_bidx=data|2", 200, ""},
		{"empty tile", "/searches/" + id + "/tiles/WebMercatorQuad/12/100/100.png?assets=data", 204, ""},
		{"unknown search", "/searches/nope" + path + ".png?assets=data", 404, ""},
		{"unknown search info", "/searches/nope/info", 404, ""},
		{"bad method", "/searches/" + id + path + ".png?assets=data&pixel_selection=best", 400, "pixel_selection"},
		{"bad items_limit", "/searches/" + id + path + ".png?assets=data&items_limit=0", 400, "items_limit"},
		{"bad time_limit", "/searches/" + id + path + ".png?assets=data&time_limit=x", 400, "time_limit"},
		{"no assets", "/searches/" + id + path + ".png", 400, "assets"},
		{"unknown tms", "/searches/" + id + "/tiles/Nope/1/1/1.png?assets=data", 404, ""},
		{"info", "/searches/" + id + "/info", 200, `"collections":["mos"]`},
		{"filtered info", "/searches/" + filtered + "/info", 200, `"filter-lang":"cql2-json"`},
		{"tilejson", "/searches/" + id + "/WebMercatorQuad/tilejson.json?assets=data&tile_format=png", 200, `/searches/` + id + `/tiles/WebMercatorQuad/{z}/{x}/{y}.png?assets=data`},
		{"collection tilejson", "/collections/mos/WebMercatorQuad/tilejson.json?assets=data", 200, `/collections/mos/tiles/WebMercatorQuad/{z}/{x}/{y}?assets=data`},
		{"wmts", "/searches/" + id + "/WebMercatorQuad/WMTSCapabilities.xml?assets=data", 200, "<TileMatrix>"},
		{"map", "/searches/" + id + "/WebMercatorQuad/map.html?assets=data", 200, "<html"},
		{"point", fmt.Sprintf("/searches/%s/point/%f,%f?assets=data", id, fx.center[0], fx.center[1]), 200, `"mos/it`},
		{"point nowhere", fmt.Sprintf("/searches/%s/point/-60,10?assets=data", id), 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, ts.URL+tc.url)
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.contains) {
				t.Fatalf("%d %.300s; want %d containing %q", resp.StatusCode, body, tc.status, tc.contains)
			}
			if tc.status == 204 && len(body) != 0 {
				t.Fatalf("204 with a body: %q", body)
			}
		})
	}
	t.Run("filtered search draws only its items", func(t *testing.T) {
		resp, body := get(t, ts.URL+"/searches/"+filtered+path+"/assets?exitwhenfull=false&skipcovered=false")
		var items []map[string]any
		_ = json.Unmarshal(body, &items)
		if resp.StatusCode != 200 || len(items) != 2 || items[0]["id"] != "it04" || items[1]["id"] != "it03" {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("sortby orders the items", func(t *testing.T) {
		asc := register(t, ts.URL, `{"collections":["mos"],"filter-lang":"cql2-text","filter":"id IN ('it03','it04')","sortby":[{"field":"datetime","direction":"asc"}]}`)
		if asc == filtered {
			t.Fatal("a different sortby gave the same id")
		}
		resp, body := get(t, ts.URL+"/searches/"+asc+path+"/assets?exitwhenfull=false&skipcovered=false")
		var items []map[string]any
		_ = json.Unmarshal(body, &items)
		if resp.StatusCode != 200 || len(items) != 2 || items[0]["id"] != "it03" {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		r2, err := http.Post(ts.URL+"/searches/register", "application/json", strings.NewReader(`{"sortby":[{"field":"datetime","direction":"up"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		r2.Body.Close()
		if r2.StatusCode != 400 {
			t.Fatalf("bad sortby: %d", r2.StatusCode)
		}
	})
	t.Run("expression across assets", func(t *testing.T) {
		// "nir" is the same file as "data": an NDVI-like expression over
		// two assets (an asset name is its band 1) equals the one over the
		// bands of one asset
		one := ts.URL + "/searches/" + id + path + ".npy?pixel_selection=highest&expression=" + url.QueryEscape("(data_b2-data_b1)/(data_b2+data_b1)")
		two := ts.URL + "/searches/" + id + path + ".npy?pixel_selection=highest&expression=" + url.QueryEscape("(nir_b2-data)/(nir_b2+data)")
		r1, b1 := get(t, one)
		r2, b2 := get(t, two)
		if r1.StatusCode != 200 || r2.StatusCode != 200 || !bytes.Equal(b1, b2) {
			t.Fatalf("%d %d: %.200s / %.200s", r1.StatusCode, r2.StatusCode, b1, b2)
		}
		if shape, _ := npy(t, b2); shape[0] != 2 {
			t.Fatalf("shape %v, want one band and the mask", shape)
		}
	})
	t.Run("point values of every item", func(t *testing.T) {
		_, body := get(t, ts.URL+fmt.Sprintf("/searches/%s/point/%f,%f?assets=data", id, fx.center[0], fx.center[1]))
		var doc struct {
			Values [][]json.RawMessage `json:"values"`
		}
		if err := json.Unmarshal(body, &doc); err != nil || len(doc.Values) < 2 {
			t.Fatalf("%s: %v", body, err)
		}
	})
	t.Run("items_limit", func(t *testing.T) {
		resp, _ := get(t, ts.URL+"/searches/"+id+path+".npy?assets=data&items_limit=2&exitwhenfull=false&skipcovered=false")
		found, read := mosaicHeader(t, resp.Header)
		if resp.StatusCode != 200 || found != 2 || read > 2 || resp.Header.Get(tiles.HeaderMosaicLimit) != "items_limit" {
			t.Fatalf("%d found=%d read=%d limit=%q", resp.StatusCode, found, read, resp.Header.Get(tiles.HeaderMosaicLimit))
		}
	})
	t.Run("scan_limit", func(t *testing.T) {
		resp, _ := get(t, ts.URL+"/searches/"+id+path+".npy?assets=data&scan_limit=3&exitwhenfull=false&skipcovered=false")
		found, _ := mosaicHeader(t, resp.Header)
		if resp.StatusCode != 200 || found != 3 || resp.Header.Get(tiles.HeaderMosaicLimit) != "scan_limit" {
			t.Fatalf("%d found=%d limit=%q", resp.StatusCode, found, resp.Header.Get(tiles.HeaderMosaicLimit))
		}
	})
	t.Run("time_limit across windows", func(t *testing.T) {
		// three features, one window each: the time limit is the
		// request's, not each window's
		cr.delay.Store(int64(200 * time.Millisecond))
		defer cr.delay.Store(0)
		c := fx.center
		var feats []string
		for i := range 3 {
			x := c[0] + float64(i-1)*0.01
			feats = append(feats, fmt.Sprintf(`{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]}}`,
				x, c[1], x+0.005, c[1], x+0.005, c[1]+0.005, x, c[1]+0.005, x, c[1]))
		}
		resp, body := postJSON(t, ts.URL+"/searches/"+id+"/statistics?assets=data&pixel_selection=mean&time_limit=0.5&max_size=64",
			`{"type":"FeatureCollection","features":[`+strings.Join(feats, ",")+`]}`)
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get(tiles.HeaderMosaicLimit), "time_limit") {
			t.Fatalf("%d limit=%q %.200s", resp.StatusCode, resp.Header.Get(tiles.HeaderMosaicLimit), body)
		}
		// one item at a time, 0.2 s each: at most 3 items in 0.5 s in all
		// (each window with its own 0.5 s would read 2 or 3 each)
		found, read := mosaicHeader(t, resp.Header)
		if found < 3*3 || read > 3 {
			t.Fatalf("found %d, read %d; want at most 3 read in the request's 0.5 s", found, read)
		}
	})
	t.Run("time_limit", func(t *testing.T) {
		cr.delay.Store(int64(200 * time.Millisecond))
		defer cr.delay.Store(0)
		resp, body := get(t, ts.URL+"/searches/"+id+path+".npy?assets=data&pixel_selection=mean&time_limit=0.6&items_limit=7")
		found, read := mosaicHeader(t, resp.Header)
		if resp.StatusCode != 200 || read >= found || !strings.Contains(resp.Header.Get(tiles.HeaderMosaicLimit), "time_limit") ||
			resp.Header.Get("Cache-Control") != "no-store" || !bytes.HasPrefix(body, []byte("\x93NUMPY")) {
			t.Fatalf("%d found=%d read=%d limit=%q cache=%q", resp.StatusCode, found, read, resp.Header.Get(tiles.HeaderMosaicLimit), resp.Header.Get("Cache-Control"))
		}
	})
}

// testMosaicImages: bbox, feature, preview and statistics of mosaics go
// through the tile's stages: a bbox with a tile's bounds and size is the
// tile, a rectangular feature is the bbox, feature statistics are those of
// the feature's pixels; previews are bounded by max_size and the limits.
func testMosaicImages(t *testing.T, fx *mosaicFixture, dbPath string) {
	ts, _ := newMosaicServer(t, fx, dbPath, nil)
	id := register(t, ts.URL, `{"collections":["mos"]}`)
	const q = "assets=data&pixel_selection=mean"
	for _, pre := range []string{"/searches/" + id, "/collections/mos"} {
		t.Run(pre, func(t *testing.T) {
			base := ts.URL + pre
			x, y := lonLatTile(fx.center[0], fx.center[1], 12)
			set, _ := tms.Default()
			wm, _ := set.Get("WebMercatorQuad")
			tb, _ := wm.Bounds(tms.Tile{Z: 12, X: x, Y: y})
			_, tile := get(t, fmt.Sprintf("%s/tiles/WebMercatorQuad/12/%d/%d.npy?%s", base, x, y, q))
			resp, bbox := get(t, fmt.Sprintf("%s/bbox/%s,%s,%s,%s/256x256.npy?coord_crs=EPSG:3857&%s", base,
				ff(tb[0]), ff(tb[1]), ff(tb[2]), ff(tb[3]), q))
			if resp.StatusCode != 200 || !bytes.Equal(bbox, tile) {
				t.Fatalf("bbox of a tile: %d, %d bytes; the tile has %d", resp.StatusCode, len(bbox), len(tile))
			}
			if found, _ := mosaicHeader(t, resp.Header); found < 2 {
				t.Fatalf("bbox found %d items", found)
			}

			// a rectangle around the centre, in EPSG:4326
			c := fx.center
			r := [4]float64{c[0] - 0.02, c[1] - 0.015, c[0] + 0.02, c[1] + 0.015}
			coords := fmt.Sprintf("%s,%s,%s,%s", ff(r[0]), ff(r[1]), ff(r[2]), ff(r[3]))
			ring := fmt.Sprintf("[[%s,%s],[%s,%s],[%s,%s],[%s,%s],[%s,%s]]", ff(r[0]), ff(r[1]), ff(r[2]), ff(r[1]), ff(r[2]), ff(r[3]), ff(r[0]), ff(r[3]), ff(r[0]), ff(r[1]))
			feature := `{"type":"Feature","properties":{"name":"rect"},"geometry":{"type":"Polygon","coordinates":[` + ring + `]}}`
			_, want := get(t, base+"/bbox/"+coords+"/80x60.npy?"+q)
			resp, got := postJSON(t, base+"/feature/80x60.npy?"+q, feature)
			if resp.StatusCode != 200 || !bytes.Equal(got, want) {
				t.Fatalf("feature: %d %.200s", resp.StatusCode, got)
			}
			shape, planes := npy(t, want)
			if shape != [3]int{3, 60, 80} {
				t.Fatalf("bbox shape %v", shape)
			}
			resp, body := postJSON(t, base+"/statistics?"+q+"&max_size=80", feature)
			var fs struct {
				Properties struct {
					Name       string                    `json:"name"`
					Statistics map[string]map[string]any `json:"statistics"`
				} `json:"properties"`
			}
			if err := json.Unmarshal(body, &fs); err != nil || resp.StatusCode != 200 || fs.Properties.Name != "rect" {
				t.Fatalf("feature statistics: %d %.300s", resp.StatusCode, body)
			}
			for b, name := range []string{"data_b1", "data_b2"} {
				lo, hi, n := math.Inf(1), math.Inf(-1), 0.0
				for i, m := range planes[2] {
					if m != 0 {
						lo, hi, n = math.Min(lo, planes[b][i]), math.Max(hi, planes[b][i]), n+1
					}
				}
				st := fs.Properties.Statistics[name]
				if st["min"] != any(lo) || st["max"] != any(hi) || st["count"] != any(n) {
					t.Errorf("%s statistics %v; the pixels: min %v max %v count %v", name, st, lo, hi, n)
				}
			}

			resp, body = get(t, base+"/preview.npy?"+q+"&max_size=128")
			shape, _ = npy(t, body)
			if resp.StatusCode != 200 || max(shape[1], shape[2]) != 128 || resp.Header.Get(tiles.HeaderMosaicItems) == "" {
				t.Fatalf("preview: %d shape %v items %q", resp.StatusCode, shape, resp.Header.Get(tiles.HeaderMosaicItems))
			}
			var gb [4]float64
			if _, err := fmt.Sscanf(resp.Header.Get("Content-Bbox"), "%g,%g,%g,%g", &gb[0], &gb[1], &gb[2], &gb[3]); err != nil {
				t.Fatalf("preview Content-Bbox %q", resp.Header.Get("Content-Bbox"))
			}
			// a preview in another CRS covers the same extent (Web Mercator
			// maps a lon/lat box corner to corner) and is the bbox of its
			// bounds there
			resp, body = get(t, base+"/preview.npy?"+q+"&max_size=128&dst_crs=EPSG:3857")
			if resp.StatusCode != 200 {
				t.Fatalf("preview in EPSG:3857: %d %s", resp.StatusCode, body)
			}
			shape, _ = npy(t, body)
			var pb [4]float64
			if _, err := fmt.Sscanf(resp.Header.Get("Content-Bbox"), "%g,%g,%g,%g", &pb[0], &pb[1], &pb[2], &pb[3]); err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Crs") != "<http://www.opengis.net/def/crs/EPSG/0/3857>" {
				t.Fatalf("preview in EPSG:3857: %d %q %q %.100s", resp.StatusCode, resp.Header.Get("Content-Bbox"), resp.Header.Get("Content-Crs"), body)
			}
			const radius = 6378137.0
			merc := func(lon, lat float64) (float64, float64) {
				return radius * lon * math.Pi / 180, radius * math.Log(math.Tan(math.Pi/4+lat*math.Pi/360))
			}
			x0, y0 := merc(gb[0], gb[1])
			x1, y1 := merc(gb[2], gb[3])
			for i, w := range [4]float64{x0, y0, x1, y1} {
				if math.Abs(pb[i]-w) > 0.01 {
					t.Fatalf("preview in EPSG:3857 has bounds %v; the EPSG:4326 preview's %v are %v", pb, gb, [4]float64{x0, y0, x1, y1})
				}
			}
			_, want3857 := get(t, fmt.Sprintf("%s/bbox/%s,%s,%s,%s/%dx%d.npy?coord_crs=EPSG:3857&dst_crs=EPSG:3857&%s", base,
				ff(pb[0]), ff(pb[1]), ff(pb[2]), ff(pb[3]), shape[2], shape[1], q))
			if !bytes.Equal(body, want3857) {
				t.Fatalf("preview in EPSG:3857 (%v, shape %v) differs from the bbox of its bounds", pb, shape)
			}
			resp, body = get(t, base+"/preview.png?"+q+"&items_limit=2&rescale=0,3000&asset_bidx=data|1")
			if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get(tiles.HeaderMosaicLimit), "items_limit") {
				t.Fatalf("preview with items_limit: %d %q %.100s", resp.StatusCode, resp.Header.Get(tiles.HeaderMosaicLimit), body)
			}
			resp, body = get(t, base+"/statistics?"+q+"&max_size=64")
			var st map[string]map[string]any
			if err := json.Unmarshal(body, &st); err != nil || resp.StatusCode != 200 || st["data_b1"]["count"].(float64) == 0 || st["data_b2"] == nil {
				t.Fatalf("statistics: %d %.300s", resp.StatusCode, body)
			}

			// nowhere: 204 for images, empty statistics for features
			resp, body = get(t, base+"/bbox/-60,10,-59,11.png?"+q)
			if resp.StatusCode != 204 || len(body) != 0 {
				t.Fatalf("empty bbox: %d %q", resp.StatusCode, body)
			}
			nowhere := `{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[-60,10],[-59,10],[-59,11],[-60,11],[-60,10]]]}}`
			if resp, body := postJSON(t, base+"/feature.png?"+q, nowhere); resp.StatusCode != 204 || len(body) != 0 {
				t.Fatalf("empty feature: %d %q", resp.StatusCode, body)
			}
			if resp, body := postJSON(t, base+"/statistics?"+q, nowhere); resp.StatusCode != 200 || !strings.Contains(string(body), `"statistics":{}`) {
				t.Fatalf("empty feature statistics: %d %s", resp.StatusCode, body)
			}
		})
	}
	for _, c := range []struct {
		name, url string
		status    int
	}{
		{"unknown search preview", "/searches/nope/preview.png?assets=data", 404},
		{"unknown search bbox", "/searches/nope/bbox/0,0,1,1.png?assets=data", 404},
		{"bad bbox", "/searches/" + id + "/bbox/0,0,x,1.png?assets=data", 400},
		{"bad max_size", "/searches/" + id + "/preview.png?assets=data&max_size=1", 400},
		{"bad pixel_selection", "/searches/" + id + "/statistics?assets=data&pixel_selection=x", 400},
	} {
		if resp, body := get(t, ts.URL+c.url); resp.StatusCode != c.status {
			t.Errorf("%s: %d %.200s; want %d", c.name, resp.StatusCode, body, c.status)
		}
	}
}

// TestMosaicAntimeridian: a UTM zone 1 tile reaching across the
// antimeridian finds the items on both sides of it (its CRS84 footprint
// crosses the antimeridian instead of being cut at 180°W) and shows the
// pixels of both.
func TestMosaicAntimeridian(t *testing.T) {
	dir := t.TempDir()
	r, err := gdal.New(gdal.Config{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	var items []boxItem
	for i, side := range []struct {
		west, value float64
	}{{179, 100}, {-180, 200}} {
		box := [4]float64{side.west, 0, side.west + 1, 1}
		src := makeCOG(t, dir, cogSpec{name: fmt.Sprint("side", i), w: 64, h: 64, bands: 1, dt: raster.Uint8, epsg: 4326,
			bounds: box, value: func(int, int, int) float64 { return side.value }})
		items = append(items, boxItem{id: fmt.Sprint("side", i), datetime: fmt.Sprintf("2024-01-0%dT10:00:00Z", i+1), asset: "data", href: src, box: box})
	}
	dbPath := filepath.Join(dir, "catalog.db")
	writeBoxCatalog(t, dbPath, "am", items)
	ts, _ := newMosaicServer(t, &mosaicFixture{gdal: r}, dbPath, nil)
	id := register(t, ts.URL, `{"collections":["am"]}`)

	// The zoom 7 tile of UTM01WGS84Quad (~50 km wide here) holding 180°
	// at 0.5°N, a point 3° west of the zone's central meridian.
	set, _ := tms.Default()
	tg, _ := set.Get("UTM01WGS84Quad")
	x, y := 500000-3*111320*0.9996*math.Cos(0.5*math.Pi/180), 0.5*110574.0
	rg, err := tg.TileRange(7, [4]float64{x, y, x, y})
	if err != nil {
		t.Fatal(err)
	}
	tile := tms.Tile{Z: 7, X: rg.MinX, Y: rg.MinY}
	base := fmt.Sprintf("%s/searches/%s/tiles/UTM01WGS84Quad/%s", ts.URL, id, tile)
	resp, body := get(t, base+"/assets")
	var listed []map[string]any
	if err := json.Unmarshal(body, &listed); err != nil || resp.StatusCode != 200 || len(listed) != 2 {
		t.Fatalf("tile %s: %d, %.300s", tile, resp.StatusCode, body)
	}
	resp, body = get(t, base+".npy?assets=data")
	if resp.StatusCode != 200 {
		t.Fatalf("tile %s: %d %.300s", tile, resp.StatusCode, body)
	}
	_, planes := npy(t, body)
	seen := map[float64]int{}
	for _, v := range planes[0] {
		seen[v]++
	}
	if seen[100] == 0 || seen[200] == 0 {
		t.Fatalf("tile %s has pixel values %v; want both sides' (100 and 200)", tile, seen)
	}
}
