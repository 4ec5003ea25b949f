//go:build gdal

package tiles_test

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/tessera-geo/tessera/internal/raster"
	"github.com/tessera-geo/tessera/internal/tms"
)

func ptr(f float64) *float64 { return &f }

// lonLatTile returns the WebMercatorQuad tile containing lon/lat at z.
func lonLatTile(lon, lat float64, z int) (int, int) {
	n := math.Exp2(float64(z))
	x := int((lon + 180) / 360 * n)
	r := lat * math.Pi / 180
	y := int((1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * n)
	return x, y
}

func pattern(scale float64) func(b, x, y int) float64 {
	return func(b, x, y int) float64 {
		return math.Mod(float64(x*3+y*5+b*50+(x*y)%17), 250) * scale
	}
}

func disk(cx, cy, r int) func(x, y int) bool {
	return func(x, y int) bool { return (x-cx)*(x-cx)+(y-cy)*(y-cy) > r*r }
}

// sources used by several tests
func testSources(t testing.TB, dir string) map[string]string {
	t.Helper()
	return map[string]string{
		"utm": makeCOG(t, dir, cogSpec{name: "utm", w: 600, h: 500, bands: 3, dt: raster.Uint16, epsg: 32631,
			bounds: [4]float64{400000, 4900000, 460000, 4950000}, value: pattern(200)}),
		"geo": makeCOG(t, dir, cogSpec{name: "geo", w: 400, h: 400, bands: 1, dt: raster.Uint8, epsg: 4326,
			bounds: [4]float64{10, 45, 11, 46}, value: pattern(1)}),
		"nodata": makeCOG(t, dir, cogSpec{name: "nodata", w: 500, h: 500, bands: 1, dt: raster.Int16, epsg: 32631,
			bounds: [4]float64{400000, 4900000, 450000, 4950000}, nodata: ptr(-9999), value: pattern(-3), valid: disk(250, 250, 120)}),
		"alpha": makeCOG(t, dir, cogSpec{name: "alpha", w: 400, h: 300, bands: 3, dt: raster.Uint8, epsg: 4326,
			bounds: [4]float64{10, 45, 11, 45.75}, alpha: true, value: pattern(1), valid: disk(200, 150, 80)}),
		"mask": makeCOG(t, dir, cogSpec{name: "mask", w: 400, h: 300, bands: 1, dt: raster.Uint8, epsg: 4326,
			bounds: [4]float64{10, 45, 11, 45.75}, mask: true, value: pattern(1), valid: disk(200, 150, 80)}),
	}
}

// TestTilePixels compares tiles with gdalwarp of the same source to the
// same grid: values within ±1 and the same mask.
func TestTilePixels(t *testing.T) {
	dir := t.TempDir()
	src := testSources(t, dir)
	ts, _ := newServer(t, nil)
	set, _ := tms.Default()
	wm, _ := set.Get("WebMercatorQuad")
	cases := []struct {
		name, src  string
		lon, lat   float64
		z          int
		resampling string
		bands      int
	}{
		{"utm-near-z10", "utm", 1.95, 44.45, 10, "nearest", 3},
		{"utm-bilinear-z10", "utm", 1.95, 44.45, 10, "bilinear", 3},
		{"utm-overview-z8", "utm", 1.95, 44.45, 8, "nearest", 3},
		{"utm-edge-z9", "utm", 1.75, 44.6, 9, "nearest", 3},
		{"geo-near-z9", "geo", 10.5, 45.5, 9, "nearest", 1},
		{"geo-cubic-z10", "geo", 10.3, 45.3, 10, "cubic", 1},
		{"nodata-z10", "nodata", 1.6, 44.45, 10, "nearest", 1},
		{"nodata-bilinear-z10", "nodata", 1.6, 44.45, 10, "bilinear", 1},
		{"alpha-z9", "alpha", 10.5, 45.4, 9, "nearest", 3},
		{"mask-z9", "mask", 10.5, 45.4, 9, "nearest", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x, y := lonLatTile(tc.lon, tc.lat, tc.z)
			b, err := wm.Bounds(tms.Tile{Z: tc.z, X: x, Y: y})
			if err != nil {
				t.Fatal(err)
			}
			resp, body := get(t, fmt.Sprintf("%s/cog/tiles/WebMercatorQuad/%d/%d/%d.npy?url=%s&resampling=%s", ts.URL, tc.z, x, y, src[tc.src], tc.resampling))
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			shape, got := npy(t, body)
			if shape != [3]int{tc.bands + 1, 256, 256} {
				t.Fatalf("shape %v", shape)
			}
			ref := filepath.Join(t.TempDir(), "ref.tif")
			gdalR := tc.resampling
			if gdalR == "nearest" {
				gdalR = "near"
			}
			run(t, "gdalwarp", "-q", "-t_srs", "EPSG:3857", "-te", ff(b[0]), ff(b[1]), ff(b[2]), ff(b[3]), "-ts", "256", "256",
				"-r", gdalR, "-dstalpha", src[tc.src], ref)
			want := readRaw(t, ref, 256, 256)
			if len(want) != tc.bands+1 {
				t.Fatalf("reference has %d bands", len(want))
			}
			maskDiff, valid, masked := 0, 0, 0
			for i := 0; i < 256*256; i++ {
				gv, wv := got[tc.bands][i] > 0, want[tc.bands][i] > 0
				if gv != wv {
					maskDiff++
					continue
				}
				if !gv {
					masked++
					continue
				}
				valid++
				for bnd := 0; bnd < tc.bands; bnd++ {
					if d := math.Abs(got[bnd][i] - want[bnd][i]); d > 1 {
						t.Fatalf("band %d pixel %d,%d: got %v want %v", bnd+1, i%256, i/256, got[bnd][i], want[bnd][i])
					}
				}
			}
			if maskDiff > 0 {
				t.Errorf("%d pixels differ in validity", maskDiff)
			}
			if valid == 0 {
				t.Errorf("no valid pixel compared")
			}
			switch tc.src {
			case "nodata", "alpha", "mask":
				if masked == 0 {
					t.Errorf("expected masked pixels from the %s source", tc.src)
				}
			}
			t.Logf("%d valid, %d masked pixels match", valid, masked)
		})
	}
}

func ff(v float64) string { return fmt.Sprintf("%.10f", v) }
