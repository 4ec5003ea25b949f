//go:build gdal

package tiles_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"image/png"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/tessera-geo/tessera/internal/tiles"
)

func TestEndpoints(t *testing.T) {
	dir := t.TempDir()
	src := testSources(t, dir)
	ts, _ := newServer(t, nil)
	itemStore["c1/i1"] = []byte(fmt.Sprintf(`{"type":"Feature","stac_version":"1.0.0","id":"i1","collection":"c1","bbox":[1.7,44.2,2.5,44.7],
		"geometry":null,"properties":{},"links":[],"assets":{
		"visual":{"href":%q,"type":"image/tiff; application=geotiff; profile=cloud-optimized"},
		"red":{"href":%q,"type":"image/tiff; application=geotiff"},
		"thumb":{"href":"thumb.png","type":"image/png"}}}`, src["utm"], src["nodata"]))
	u := url.QueryEscape(src["utm"])
	g := url.QueryEscape(src["geo"])
	x, y := lonLatTile(1.95, 44.45, 10)
	tile := fmt.Sprintf("/cog/tiles/WebMercatorQuad/10/%d/%d", x, y)
	itile := fmt.Sprintf("/collections/c1/items/i1/tiles/WebMercatorQuad/10/%d/%d", x, y)
	gx, gy := lonLatTile(10.5, 45.5, 9)
	gtile := fmt.Sprintf("/cog/tiles/WebMercatorQuad/9/%d/%d", gx, gy)
	ok := []struct {
		name, path, ctype string
	}{
		{"tile png rescale", tile + ".png?url=" + u + "&rescale=0,50000", "image/png"},
		{"tile auto jpeg (no mask, 8-bit)", tile + "?url=" + u + "&rescale=0,50000", "image/jpeg"},
		{"tile auto png (uint16)", tile + "?url=" + u, "image/png"},
		{"tile jpg", tile + ".jpg?url=" + u + "&rescale=0,50000", "image/jpeg"},
		{"tile webp", tile + ".webp?url=" + u + "&rescale=0,50000", "image/webp"},
		{"tile tif", tile + ".tif?url=" + u, "image/tiff; application=geotiff"},
		{"tile npy", tile + ".npy?url=" + u, "application/x-binary"},
		{"tile @2x", tile + "@2x.png?url=" + u + "&rescale=0,50000", "image/png"},
		{"tile color_formula", tile + ".png?url=" + u + "&rescale=0,50000&color_formula=" + url.QueryEscape("Gamma RGB 1.5 Saturation 1.3 Sigmoidal RGB 10 0.35"), "image/png"},
		{"tile color_formula auto jpeg", tile + "?url=" + u + "&color_formula=" + url.QueryEscape("gamma r 2"), "image/jpeg"},
		{"tile bidx colormap", tile + ".png?url=" + u + "&bidx=1&rescale=0,50000&colormap_name=viridis", "image/png"},
		{"tile expression", tile + ".png?url=" + u + "&expression=" + url.QueryEscape("(b2-b1)/(b2+b1)") + "&rescale=-1,1&colormap_name=rdylgn", "image/png"},
		{"tile discrete colormap", gtile + ".png?url=" + g + "&colormap=" + url.QueryEscape(`{"0":[255,0,0,255],"85":"#00ff00"}`), "image/png"},
		{"tile interval colormap", gtile + ".png?url=" + g + "&colormap=" + url.QueryEscape(`[[[0,100],[255,0,0,255]],[[100,256],[0,0,255,255]]]`), "image/png"},
		{"tile hillshade", gtile + ".png?url=" + g + "&algorithm=hillshade&buffer=2", "image/png"},
		{"tile terrainrgb", gtile + ".png?url=" + g + "&algorithm=terrainrgb", "image/png"},
		{"tile normalizedIndex", tile + ".npy?url=" + u + "&bidx=1,2&algorithm=normalizedIndex", "application/x-binary"},
		{"tile nodata override unscale padding tilesize", tile + ".png?url=" + u + "&nodata=0&unscale=true&padding=2&tilesize=512&rescale=0,50000&return_mask=false", "image/png"},
		{"tile reproject", tile + ".png?url=" + u + "&reproject=bilinear&rescale=0,50000", "image/png"},
		{"tile other tms", "/cog/tiles/WorldCRS84Quad/9/517/129.png?url=" + u + "&rescale=0,50000", "image/png"},
		{"tile utm tms", "/cog/tiles/UTM31WGS84Quad/8/127/192.png?url=" + u + "&rescale=0,50000", "image/png"},
		{"tilejson", "/cog/WebMercatorQuad/tilejson.json?url=" + u + "&tile_format=png&rescale=0,50000", "application/json"},
		{"wmts", "/cog/WebMercatorQuad/WMTSCapabilities.xml?url=" + u, "application/xml"},
		{"map", "/cog/WebMercatorQuad/map.html?url=" + u, "text/html; charset=utf-8"},
		{"info", "/cog/info?url=" + u, "application/json"},
		{"info geojson", "/cog/info.geojson?url=" + u, "application/geo+json"},
		{"statistics", "/cog/statistics?url=" + u + "&max_size=256", "application/json"},
		{"point", "/cog/point/1.95,44.45?url=" + u, "application/json"},
		{"preview", "/cog/preview.png?url=" + u + "&rescale=0,50000&max_size=128", "image/png"},
		{"preview auto", "/cog/preview?url=" + u + "&rescale=0,50000", "image/jpeg"},
		{"preview dst_crs", "/cog/preview.png?url=" + u + "&rescale=0,50000&dst_crs=EPSG:4326&width=100", "image/png"},
		{"bbox", "/cog/bbox/1.8,44.3,2.0,44.5.png?url=" + u + "&rescale=0,50000", "image/png"},
		{"bbox size", "/cog/bbox/1.8,44.3,2.0,44.5/100x80.jpg?url=" + u + "&rescale=0,50000", "image/jpeg"},
		{"tms list", "/tileMatrixSets", "application/json"},
		{"tms one", "/tileMatrixSets/EuropeanETRS89_LAEAQuad", "application/json"},
		{"colormaps", "/colorMaps", "application/json"},
		{"colormap", "/colorMaps/viridis_r", "application/json"},
		{"algorithms", "/algorithms", "application/json"},
		{"viewer js", "/tiles-static/viewer.js", "text/javascript; charset=utf-8"},
		{"item tile", itile + ".png?assets=visual&asset_bidx=visual|1,2,3&rescale=0,50000", "image/png"},
		{"item expression", itile + ".png?expression=" + url.QueryEscape("visual_b1/(red+1)") + "&rescale=0,10", "image/png"},
		{"item info", "/collections/c1/items/i1/info", "application/json"},
		{"item tilejson", "/collections/c1/items/i1/WebMercatorQuad/tilejson.json?assets=visual", "application/json"},
		{"item point", "/collections/c1/items/i1/point/1.95,44.45?assets=visual,red", "application/json"},
		{"item statistics", "/collections/c1/items/i1/statistics?assets=visual&max_size=128", "application/json"},
		{"item preview", "/collections/c1/items/i1/preview.png?assets=visual&rescale=0,50000", "image/png"},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, ts.URL+tc.path)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != tc.ctype {
				t.Fatalf("content-type %q, want %q", ct, tc.ctype)
			}
			switch tc.ctype {
			case "image/png":
				if _, err := png.Decode(bytes.NewReader(body)); err != nil {
					t.Fatal(err)
				}
			case "image/jpeg":
				if _, err := jpeg.Decode(bytes.NewReader(body)); err != nil {
					t.Fatal(err)
				}
			}
			if strings.HasPrefix(tc.ctype, "image/") {
				for _, h := range []string{"ETag", "Cache-Control", "Server-Timing", "Content-Bbox", "Content-Crs"} {
					if resp.Header.Get(h) == "" {
						t.Errorf("missing %s", h)
					}
				}
				if st := resp.Header.Get("Server-Timing"); !strings.Contains(st, "read;dur=") || !strings.Contains(st, "encode;dur=") {
					t.Errorf("Server-Timing %q", st)
				}
			}
		})
	}

	t.Run("etag 304", func(t *testing.T) {
		resp, _ := get(t, ts.URL+tile+".png?url="+u+"&rescale=0,50000")
		req, _ := http.NewRequest("GET", ts.URL+tile+".png?url="+u+"&rescale=0,50000", nil)
		req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
		r2, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r2.Body.Close()
		if r2.StatusCode != 304 {
			t.Fatalf("status %d", r2.StatusCode)
		}
	})
	t.Run("point values", func(t *testing.T) {
		_, body := get(t, ts.URL+"/cog/point/10.00125,45.99875?url="+g)
		var doc struct {
			Values []float64 `json:"values"`
		}
		if err := json.Unmarshal(body, &doc); err != nil || len(doc.Values) != 1 || doc.Values[0] != 0 {
			t.Fatalf("%s %v", body, err)
		}
		_, body = get(t, ts.URL+"/cog/point/10.00375,45.99875?url="+g) // pixel (1,0): 3
		if err := json.Unmarshal(body, &doc); err != nil || doc.Values[0] != 3 {
			t.Fatalf("%s", body)
		}
	})
	t.Run("feature and statistics POST", func(t *testing.T) {
		feat := `{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[10.2,45.2],[10.8,45.2],[10.5,45.8],[10.2,45.2]]]}}`
		resp, err := http.Post(ts.URL+"/cog/feature.png?url="+g, "application/geo+json", strings.NewReader(feat))
		if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("%v %v", err, resp.Status)
		}
		resp.Body.Close()
		resp, err = http.Post(ts.URL+"/cog/feature/64x64.npy?url="+g, "application/geo+json", strings.NewReader(feat))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%v %v", err, resp.Status)
		}
		resp.Body.Close()
		resp, err = http.Post(ts.URL+"/cog/statistics?url="+g, "application/geo+json", strings.NewReader(feat))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%v %v", err, resp.Status)
		}
		var doc struct {
			Properties struct {
				Statistics map[string]struct {
					Count       float64 `json:"count"`
					Masked      float64 `json:"masked_pixels"`
					Percentile2 float64 `json:"percentile_2"`
				} `json:"statistics"`
			} `json:"properties"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&doc)
		resp.Body.Close()
		st := doc.Properties.Statistics["b1"]
		if st.Count == 0 || st.Masked == 0 {
			t.Fatalf("statistics %+v", doc)
		}
	})
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	src := testSources(t, dir)
	ts, _ := newServer(t, func(c *tiles.Config) { c.LocalRoots = []string{dir} })
	u := url.QueryEscape(src["utm"])
	x, y := lonLatTile(1.95, 44.45, 10)
	tile := fmt.Sprintf("/cog/tiles/WebMercatorQuad/10/%d/%d", x, y)
	cases := []struct {
		name, path string
		status     int
		param      string // must appear in the description
	}{
		{"missing url", tile + ".png", 400, "url"},
		{"bad bidx", tile + ".png?url=" + u + "&bidx=x", 400, "bidx"},
		{"bidx out of range", tile + ".png?url=" + u + "&bidx=9", 400, "bidx"},
		{"bad expression", tile + ".png?url=" + u + "&expression=" + url.QueryEscape("(b1+"), 400, "expression"},
		{"expression unknown band", tile + ".png?url=" + u + "&expression=b9*2", 400, "expression"},
		{"expression bad name", tile + ".png?url=" + u + "&expression=foo*2", 400, "expression"},
		{"bad nodata", tile + ".png?url=" + u + "&nodata=abc", 400, "nodata"},
		{"bad unscale", tile + ".png?url=" + u + "&unscale=maybe", 400, "unscale"},
		{"bad resampling", tile + ".png?url=" + u + "&resampling=fancy", 400, "resampling"},
		{"bad reproject", tile + ".png?url=" + u + "&reproject=fancy", 400, "reproject"},
		{"bad rescale", tile + ".png?url=" + u + "&rescale=0", 400, "rescale"},
		{"bad colormap_name", tile + ".png?url=" + u + "&colormap_name=nope", 400, "colormap_name"},
		{"bad colormap", tile + ".png?url=" + u + "&colormap=" + url.QueryEscape("{bad"), 400, "colormap"},
		{"both colormaps", tile + ".png?url=" + u + "&colormap_name=viridis&colormap=" + url.QueryEscape(`{"1":[1,2,3]}`), 400, "colormap"},
		{"bad return_mask", tile + ".png?url=" + u + "&return_mask=2", 400, "return_mask"},
		{"bad color_formula", tile + ".png?url=" + u + "&color_formula=" + url.QueryEscape("gamma rgb"), 400, "color_formula"},
		{"color_formula on one band", tile + ".png?url=" + u + "&bidx=1&color_formula=" + url.QueryEscape("saturation 1.5"), 400, "color_formula"},
		{"bad buffer", tile + ".png?url=" + u + "&buffer=-1", 400, "buffer"},
		{"bad padding", tile + ".png?url=" + u + "&padding=x", 400, "padding"},
		{"bad tilesize", tile + ".png?url=" + u + "&tilesize=5", 400, "tilesize"},
		{"bad algorithm", tile + ".png?url=" + u + "&algorithm=magic", 400, "algorithm"},
		{"bad algorithm_params", tile + ".png?url=" + u + "&algorithm=hillshade&algorithm_params=" + url.QueryEscape(`{"nope":1}`), 400, "algorithm"},
		{"assets on cog", tile + ".png?url=" + u + "&assets=a", 400, "assets"},
		{"bad format", tile + ".gif?url=" + u, 400, "format"},
		{"bad scale", tile + "@9x.png?url=" + u, 400, "scale"},
		{"bad z", "/cog/tiles/WebMercatorQuad/a/1/1.png?url=" + u, 400, "z"},
		{"bad y", "/cog/tiles/WebMercatorQuad/1/1/b.png?url=" + u, 400, "y"},
		{"colormap with 3 bands", tile + ".png?url=" + u + "&colormap_name=viridis", 400, "bidx"},
		{"bad tile_format", "/cog/WebMercatorQuad/tilejson.json?url=" + u + "&tile_format=gif", 400, "tile_format"},
		{"bad minzoom", "/cog/WebMercatorQuad/tilejson.json?url=" + u + "&minzoom=99", 400, "minzoom"},
		{"bad point", "/cog/point/abc?url=" + u, 400, "lon,lat"},
		{"bad bbox", "/cog/bbox/1,2,3.png?url=" + u, 400, "bbox"},
		{"bad bbox size", "/cog/bbox/1.8,44.3,2.0,44.5/10xq.png?url=" + u, 400, "size"},
		{"bad max_size", "/cog/preview.png?url=" + u + "&max_size=1", 400, "max_size"},
		{"bad dst_crs", "/cog/preview.png?url=" + u + "&dst_crs=foo", 400, "dst_crs"},
		{"bad histogram_bins", "/cog/statistics?url=" + u + "&histogram_bins=0", 400, "histogram_bins"},
		{"bad p", "/cog/statistics?url=" + u + "&p=101", 400, "p"},
		{"scheme", tile + ".png?url=" + url.QueryEscape("ftp://x/y.tif"), 400, "url"},
		{"vsi path", tile + ".png?url=" + url.QueryEscape("/vsicurl/http://x/y.tif"), 400, "url"},
		{"host not allowed", tile + ".png?url=" + url.QueryEscape("http://example.com/a.tif"), 403, "url"},
		{"bucket not allowed", tile + ".png?url=" + url.QueryEscape("s3://bucket/a.tif"), 403, "url"},
		{"local outside roots", tile + ".png?url=" + url.QueryEscape("/etc/passwd"), 403, "url"},
		{"missing file", tile + ".png?url=" + url.QueryEscape(dir+"/nope.tif"), 404, "nope.tif"},
		{"unreadable source", tile + ".png?url=" + url.QueryEscape(dir+"/utm.raw.tif.not"), 404, ""},
		{"outside bounds", "/cog/tiles/WebMercatorQuad/10/0/0.png?url=" + u, 404, "outside"},
		{"tile outside matrix", "/cog/tiles/WebMercatorQuad/1/5/5.png?url=" + u, 404, ""},
		{"unknown tms", "/cog/tiles/Nope/1/1/1.png?url=" + u, 404, "Nope"},
		{"unknown colormap", "/colorMaps/nope", 404, "nope"},
		{"point outside", "/cog/point/50,10?url=" + u, 404, "outside"},
		{"item missing", "/collections/c1/items/nope/info", 404, ""},
		{"item no assets", "/collections/c1/items/i1/tiles/WebMercatorQuad/10/1/1.png", 400, "assets"},
		{"item unknown asset", "/collections/c1/items/i1/tiles/WebMercatorQuad/10/1/1.png?assets=zzz", 400, "assets"},
		{"item bad asset_bidx", "/collections/c1/items/i1/tiles/WebMercatorQuad/10/1/1.png?assets=visual&asset_bidx=visual", 400, "asset_bidx"},
	}
	itemStore["c1/i1"] = []byte(fmt.Sprintf(`{"id":"i1","assets":{"visual":{"href":%q}}}`, src["utm"]))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, ts.URL+tc.path)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			var e struct{ Code, Description string }
			if err := json.Unmarshal(body, &e); err != nil || e.Code == "" {
				t.Fatalf("error body %q: %v", body, err)
			}
			if !strings.Contains(e.Description, tc.param) {
				t.Fatalf("description %q does not name %q", e.Description, tc.param)
			}
		})
	}
	t.Run("unreadable file is 400 with GDAL's reason", func(t *testing.T) {
		bad := dir + "/garbage.tif"
		_ = writeFile(bad, []byte("this is not a tiff"))
		resp, body := get(t, ts.URL+tile+".png?url="+url.QueryEscape(bad))
		if resp.StatusCode != 400 || !strings.Contains(string(body), "not recognized") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
}

// TestConcurrentTiles hammers one source from many goroutines (run with
// -race): the handle pool must serialise GDAL handle use.
func TestConcurrentTiles(t *testing.T) {
	dir := t.TempDir()
	src := makeCOG(t, dir, cogSpec{name: "utm", w: 600, h: 500, bands: 3, dt: "uint16", epsg: 32631,
		bounds: [4]float64{400000, 4900000, 460000, 4950000}, value: pattern(200)})
	ts, rd := newServer(t, func(c *tiles.Config) { c.HandlesPerSource = 3 })
	u := url.QueryEscape(src)
	x, y := lonLatTile(1.95, 44.45, 11)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 4; i++ {
				resp, err := http.Get(fmt.Sprintf("%s/cog/tiles/WebMercatorQuad/11/%d/%d.png?url=%s&rescale=0,50000", ts.URL, x+(g+i)%3-1, y+(g/3+i)%3-1, u))
				if err != nil {
					errs <- err
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs <- fmt.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if st := rd.Stats(); st.OpenHandles > 3 || st.Sources != 1 {
		t.Fatalf("pool %+v: at most 3 handles for 1 source", st)
	}
}

// TestColorFormulaPixels: color_formula runs after rescale, on the
// bands it names: gamma r 2 gives floor(255·√(v/255)) in the red band
// and leaves the others.
func TestColorFormulaPixels(t *testing.T) {
	dir := t.TempDir()
	src := testSources(t, dir)
	ts, _ := newServer(t, nil)
	x, y := lonLatTile(1.95, 44.45, 10)
	base := fmt.Sprintf("%s/cog/tiles/WebMercatorQuad/10/%d/%d.npy?url=%s&rescale=0,50000", ts.URL, x, y, url.QueryEscape(src["utm"]))
	_, plain := get(t, base)
	resp, body := get(t, base+"&color_formula="+url.QueryEscape("gamma r 2"))
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	_, before := npy(t, plain)
	_, after := npy(t, body)
	changed := 0
	for i, v := range before[0] {
		if want := math.Floor(255*math.Sqrt(v/255) + 1e-9); after[0][i] != want {
			t.Fatalf("pixel %d: red %v → %v, want %v", i, v, after[0][i], want)
		}
		if after[0][i] != v {
			changed++
		}
		if after[1][i] != before[1][i] || after[2][i] != before[2][i] {
			t.Fatalf("pixel %d: green/blue changed", i)
		}
	}
	if changed == 0 {
		t.Fatal("gamma changed no pixel")
	}
}
