//go:build gdal

package tiles

import (
	"fmt"
	"math"
	"os/exec"
	"strings"
	"testing"

	"github.com/tessera-geo/tessera/internal/geo"
)

// TestInverseProjection compares the pure-Go inverse projections with
// GDAL's (gdaltransform) at points across each CRS's area of use.
func TestInverseProjection(t *testing.T) {
	cases := []struct {
		srs string
		pts [][2]float64 // lon, lat
	}{
		{"EPSG:3857", [][2]float64{{0, 0}, {-120.5, 60.1}, {179.9, -84}}},
		{"EPSG:32631", [][2]float64{{3, 44.2}, {0.1, 0.5}, {5.9, 72}, {3.5, 84}, {-1.5, 50}}},
		{"EPSG:32733", [][2]float64{{15, -0.5}, {12.2, -45}, {17.9, -79}}},
		{"EPSG:32660", [][2]float64{{177, 10}, {179.9, 60}}},
		{"EPSG:3035", [][2]float64{{10, 52}, {-20, 35}, {3.07, 44.2}, {40, 70}, {-9, 39}, {25, 60}}},
	}
	for _, tc := range cases {
		t.Run(tc.srs, func(t *testing.T) {
			inv, ok := inverseProjection(tc.srs)
			if !ok {
				t.Fatal("no inverse projection")
			}
			var in strings.Builder
			for _, p := range tc.pts {
				fmt.Fprintf(&in, "%.10f %.10f\n", p[0], p[1])
			}
			cmd := exec.Command("gdaltransform", "-s_srs", "EPSG:4326", "-t_srs", tc.srs)
			cmd.Stdin = strings.NewReader(in.String())
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("gdaltransform: %v", err)
			}
			for i, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				var x, y, z float64
				if _, err := fmt.Sscan(line, &x, &y, &z); err != nil {
					t.Fatalf("%q: %v", line, err)
				}
				lon, lat := inv(x, y)
				// 1e-7° is about a centimetre
				if math.Abs(lon-tc.pts[i][0]) > 1e-7 || math.Abs(lat-tc.pts[i][1]) > 1e-7 {
					t.Errorf("%v → %f,%f → %.9f,%.9f", tc.pts[i], x, y, lon, lat)
				}
			}
		})
	}
	if _, ok := inverseProjection("EPSG:2154"); ok {
		t.Error("EPSG:2154 has no inverse here")
	}
}

// TestLonLatBox: windows reaching past ±180° (UTM zones 1 and 60) become
// boxes crossing the antimeridian instead of being cut at it.
func TestLonLatBox(t *testing.T) {
	cases := []struct {
		in   [4]float64
		want geo.BBox
		err  bool
	}{
		{[4]float64{10, 40, 11, 41}, geo.BBox{MinX: 10, MinY: 40, MaxX: 11, MaxY: 41}, false},
		{[4]float64{-181.5, 0, -178, 1}, geo.BBox{MinX: 178.5, MinY: 0, MaxX: -178, MaxY: 1}, false},
		{[4]float64{178, -1, 181, 0}, geo.BBox{MinX: 178, MinY: -1, MaxX: -179, MaxY: 0}, false},
		{[4]float64{179, 0, -179, 1}, geo.BBox{MinX: 179, MinY: 0, MaxX: -179, MaxY: 1}, false}, // GDAL's crossing form
		{[4]float64{-200, -95, 200, 95}, geo.BBox{MinX: -180, MinY: -90, MaxX: 180, MaxY: 90}, false},
		{[4]float64{10, 95, 11, 96}, geo.BBox{}, true},
	}
	for _, tc := range cases {
		got, err := lonLatBox(tc.in)
		if tc.err {
			if err == nil {
				t.Errorf("%v: got %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%v: got %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	// A UTM zone 1 window across the antimeridian (centre 180°E at the
	// equator, ±20 km) through the zone's inverse projection.
	inv, _ := inverseProjection("EPSG:32601")
	x0 := 500000 - 3*111320.0*0.9996 // 3° west of the zone's central meridian (177°W)
	g, ok := densifiedBounds([4]float64{x0 - 20000, -20000, x0 + 20000, 20000}, inv)
	if !ok {
		t.Fatal("no footprint")
	}
	box, err := lonLatBox(g)
	if err != nil || !box.CrossesAntimeridian() || box.MinX > 179.9 || box.MaxX < -179.9 {
		t.Fatalf("UTM 1 window across the antimeridian: %v from %v, %v", box, g, err)
	}
}
