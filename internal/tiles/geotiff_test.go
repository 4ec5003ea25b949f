//go:build gdal

package tiles_test

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera-geo/tessera/internal/tms"
)

// TestGeoTIFFTileGeoreferenced: gdalinfo reads a .tif tile's CRS (the tile
// matrix set's EPSG code) and a geotransform equal to the tile's bounds.
func TestGeoTIFFTileGeoreferenced(t *testing.T) {
	dir := t.TempDir()
	src := testSources(t, dir)
	ts, _ := newServer(t, nil)
	set, _ := tms.Default()
	cases := []struct {
		name, tms, src string
		lon, lat       float64
		z              int
		epsg           string
	}{
		{"webmercator-utm-source", "WebMercatorQuad", "utm", 1.95, 44.45, 10, "3857"},
		{"webmercator-geo-source", "WebMercatorQuad", "geo", 10.5, 45.5, 9, "3857"},
		{"crs84", "WorldCRS84Quad", "geo", 10.5, 45.5, 8, "4326"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tm, err := set.Get(tc.tms)
			if err != nil {
				t.Fatal(err)
			}
			tile := tileAt(t, tm, tc.lon, tc.lat, tc.z)
			b, err := tm.Bounds(tile)
			if err != nil {
				t.Fatal(err)
			}
			resp, body := get(t, fmt.Sprintf("%s/cog/tiles/%s/%d/%d/%d.tif?url=%s", ts.URL, tc.tms, tile.Z, tile.X, tile.Y, src[tc.src]))
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			p := filepath.Join(t.TempDir(), "tile.tif")
			if err := writeFile(p, body); err != nil {
				t.Fatal(err)
			}
			var info struct {
				Size         [2]int    `json:"size"`
				GeoTransform []float64 `json:"geoTransform"`
				CRS          struct {
					WKT string `json:"wkt"`
				} `json:"coordinateSystem"`
			}
			if err := json.Unmarshal([]byte(run(t, "gdalinfo", "-json", p)), &info); err != nil {
				t.Fatal(err)
			}
			if want := `ID["EPSG",` + tc.epsg + `]]`; !strings.HasSuffix(strings.TrimSpace(info.CRS.WKT), want) {
				t.Fatalf("CRS does not end with %s:\n%s", want, info.CRS.WKT)
			}
			w, h := float64(info.Size[0]), float64(info.Size[1])
			gt := info.GeoTransform
			if len(gt) != 6 {
				t.Fatalf("no geotransform: %v", gt)
			}
			got := [4]float64{gt[0], gt[3] + h*gt[5], gt[0] + w*gt[1], gt[3]}
			for i := range got {
				if d := math.Abs(got[i] - b[i]); d > 1e-6*math.Max(1, math.Abs(b[i])) {
					t.Fatalf("bounds %v, want %v", got, b)
				}
			}
			if gt[2] != 0 || gt[4] != 0 {
				t.Fatalf("rotated geotransform %v", gt)
			}
		})
	}
}

// tileAt returns the tile of m at zoom z that contains lon/lat.
func tileAt(t *testing.T, m *tms.TileMatrixSet, lon, lat float64, z int) tms.Tile {
	t.Helper()
	if m.EPSG() == 3857 {
		x, y := lonLatTile(lon, lat, z)
		return tms.Tile{Z: z, X: x, Y: y}
	}
	// CRS84 quad: two tiles at zoom 0
	n := math.Exp2(float64(z))
	return tms.Tile{Z: z, X: int((lon + 180) / 360 * 2 * n), Y: int((90 - lat) / 180 * n)}
}
