package geo_test

import (
	"testing"

	"github.com/tessera-geo/tessera/internal/geo"
)

func TestGrids(t *testing.T) {
	// Reference values: the geohash of (lon 10.40744, lat 57.64911) is
	// u4pruydqqvj (Wikipedia's example); tile of (0, 0) at z1 is 1/1/1.
	if got := geo.Geohash(10.40744, 57.64911, 11); got != "u4pruydqqvj" {
		t.Errorf("geohash %s", got)
	}
	for _, tc := range []struct {
		lon, lat float64
		z        int
		want     string
	}{{0, 0, 1, "1/1/1"}, {-180, 85, 0, "0/0/0"}, {179.99, -85, 2, "2/3/3"}, {2.35, 48.85, 10, "10/518/352"}} {
		if got := geo.Geotile(tc.lon, tc.lat, tc.z); got != tc.want {
			t.Errorf("geotile(%v,%v,%d) = %s, want %s", tc.lon, tc.lat, tc.z, got, tc.want)
		}
	}
}
