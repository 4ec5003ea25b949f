//go:build gdal

package tiles_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tessera-geo/tessera/internal/tiles"
	"github.com/tessera-geo/tessera/internal/tms"
)

// TestRemoteCOG serves the same COG over a loopback HTTP server with Range
// support: tiles must be identical to local reads, with few range requests.
func TestRemoteCOG(t *testing.T) {
	dir := t.TempDir()
	src := makeCOG(t, dir, cogSpec{name: "utm", w: 600, h: 500, bands: 3, dt: "uint16", epsg: 32631,
		bounds: [4]float64{400000, 4900000, 460000, 4950000}, value: pattern(200)})
	var ranges atomic.Int64
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") != "" {
			ranges.Add(1)
		}
		http.ServeFile(w, r, filepath.Join(dir, filepath.Base(r.URL.Path)))
	}))
	defer files.Close()
	ts, _ := newServer(t, func(c *tiles.Config) { c.AllowedHosts = []string{"127.0.0.1"} })
	remote := url.QueryEscape(files.URL + "/utm.tif")
	local := url.QueryEscape(src)
	for i, z := range []int{10, 11, 9} {
		x, y := lonLatTile(1.95, 44.45, z)
		path := fmt.Sprintf("/cog/tiles/WebMercatorQuad/%d/%d/%d.png?rescale=0,50000&url=", z, x, y)
		before := ranges.Load()
		r1, b1 := get(t, ts.URL+path+remote)
		n := ranges.Load() - before
		_, b2 := get(t, ts.URL+path+local)
		if r1.StatusCode != 200 || !bytes.Equal(b1, b2) {
			t.Fatalf("z%d: remote tile (%d, %d bytes) differs from local (%d bytes)", z, r1.StatusCode, len(b1), len(b2))
		}
		t.Logf("tile %d (z%d): %d range requests", i, z, n)
		if i > 0 && n > 4 {
			t.Errorf("tile %d needed %d range requests", i, n)
		}
	}
	// a remote 404 is a 404
	resp, body := get(t, ts.URL+"/cog/info?url="+url.QueryEscape(files.URL+"/missing.tif"))
	if resp.StatusCode != 404 && resp.StatusCode != 400 {
		t.Fatalf("missing remote file: %d %s", resp.StatusCode, body)
	}
}

// TestWMTSWithGDAL reads our WMTSCapabilities.xml with GDAL's WMTS driver
// and checks that a window read through it equals our tile.
func TestWMTSWithGDAL(t *testing.T) {
	needTool(t, "gdalinfo")
	dir := t.TempDir()
	src := makeCOG(t, dir, cogSpec{name: "geo", w: 400, h: 400, bands: 1, dt: "uint8", epsg: 4326,
		bounds: [4]float64{10, 45, 11, 46}, value: pattern(1)})
	ts, _ := newServer(t, nil)
	caps := ts.URL + "/cog/WebMercatorQuad/WMTSCapabilities.xml?url=" + url.QueryEscape(src)
	cache := []string{"--config", "GDAL_DEFAULT_WMS_CACHE_PATH", filepath.Join(dir, "wmscache")}
	info := run(t, "gdalinfo", append(cache, "WMTS:"+caps)...)
	if !strings.Contains(info, "Driver: WMTS") {
		t.Fatalf("gdalinfo: %s", info)
	}
	// z9 is the dataset's max zoom: GDAL reads that level.
	z := 9
	x, y := lonLatTile(10.5, 45.5, z)
	set, _ := tms.Default()
	wm, _ := set.Get("WebMercatorQuad")
	b, _ := wm.Bounds(tms.Tile{Z: z, X: x, Y: y})
	out := filepath.Join(dir, "wmts.tif")
	run(t, "gdal_translate", append(cache, "-q", "-projwin", ff(b[0]), ff(b[3]), ff(b[2]), ff(b[1]), "-outsize", "256", "256", "WMTS:"+caps, out)...)
	got := readRaw(t, out, 256, 256)
	_, body := get(t, fmt.Sprintf("%s/cog/tiles/WebMercatorQuad/%d/%d/%d.png?url=%s", ts.URL, z, x, y, url.QueryEscape(src)))
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	bad, n := 0, 0
	for py := 0; py < 256; py++ {
		for px := 0; px < 256; px++ {
			r, _, _, a := img.At(px, py).RGBA()
			if a == 0 {
				continue
			}
			n++
			if math.Abs(float64(r>>8)-got[0][py*256+px]) > 1 {
				bad++
			}
		}
	}
	if n == 0 || bad > n/100 {
		t.Fatalf("%d of %d pixels differ between GDAL's WMTS read and our tile", bad, n)
	}
	t.Logf("%d pixels compared, %d differ", n, bad)
}

// TestMapHTMLInChromium loads map.html in headless Chromium and checks the
// screenshot shows the (colormapped) tiles.
func TestMapHTMLInChromium(t *testing.T) {
	chrome := needTool(t, "chromium")
	dir := t.TempDir()
	src := makeCOG(t, dir, cogSpec{name: "utm", w: 600, h: 500, bands: 3, dt: "uint16", epsg: 32631,
		bounds: [4]float64{400000, 4900000, 460000, 4950000}, value: pattern(200)})
	ts, _ := newServer(t, nil)
	page := ts.URL + "/cog/WebMercatorQuad/map.html?url=" + url.QueryEscape(src) + "&bidx=1&rescale=0,50000&colormap_name=plasma"
	shot := filepath.Join(dir, "shot.png")
	cmd := exec.Command(chrome, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--window-size=800,600", "--hide-scrollbars",
		"--virtual-time-budget=8000", "--screenshot="+shot, page)
	done := make(chan error, 1)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("chromium: %v\n%s", err, out.String())
		}
	case <-time.After(90 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("chromium timed out\n%s", out.String())
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\n%s", err, out.String())
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// plasma colours are saturated (purple → yellow); the page background
	// is a pale grey and the toolbar white.
	colourful := 0
	bnd := img.Bounds()
	for y := bnd.Min.Y; y < bnd.Max.Y; y += 2 {
		for x := bnd.Min.X; x < bnd.Max.X; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			mx := max(r, g, b) >> 8
			mn := min(r, g, b) >> 8
			if mx-mn > 80 {
				colourful++
			}
		}
	}
	total := (bnd.Dx() / 2) * (bnd.Dy() / 2)
	t.Logf("%d of %d sampled pixels show tile colours", colourful, total)
	if colourful < total/50 {
		if os.Getenv("TESSERA_KEEP_SCREENSHOT") != "" {
			b, _ := os.ReadFile(shot)
			_ = os.WriteFile(os.Getenv("TESSERA_KEEP_SCREENSHOT"), b, 0o644)
		}
		t.Fatalf("the screenshot shows no tiles")
	}
	if p := os.Getenv("TESSERA_KEEP_SCREENSHOT"); p != "" {
		b, _ := os.ReadFile(shot)
		_ = os.WriteFile(p, b, 0o644)
	}
}
