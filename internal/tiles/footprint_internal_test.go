//go:build gdal

package tiles

import (
	"fmt"
	"math"
	"os/exec"
	"strings"
	"testing"
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
