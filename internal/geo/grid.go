package geo

import (
	"fmt"
	"math"
)

const geohashAlphabet = "0123456789bcdefghjkmnpqrstuvwxyz"

// Geohash encodes a point at the given precision (1–12 characters).
func Geohash(lon, lat float64, precision int) string {
	minLat, maxLat, minLon, maxLon := -90.0, 90.0, -180.0, 180.0
	out := make([]byte, 0, precision)
	bit, ch, even := 0, 0, true
	for len(out) < precision {
		if even {
			mid := (minLon + maxLon) / 2
			if lon >= mid {
				ch |= 1 << (4 - bit)
				minLon = mid
			} else {
				maxLon = mid
			}
		} else {
			mid := (minLat + maxLat) / 2
			if lat >= mid {
				ch |= 1 << (4 - bit)
				minLat = mid
			} else {
				maxLat = mid
			}
		}
		even = !even
		if bit < 4 {
			bit++
		} else {
			out = append(out, geohashAlphabet[ch])
			bit, ch = 0, 0
		}
	}
	return string(out)
}

// Geotile returns the "zoom/x/y" Web Mercator tile holding a point.
func Geotile(lon, lat float64, zoom int) string {
	n := math.Exp2(float64(zoom))
	lat = math.Max(math.Min(lat, 85.05112878), -85.05112878)
	x := int(math.Floor((lon + 180) / 360 * n))
	r := lat * math.Pi / 180
	y := int(math.Floor((1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * n))
	x = min(max(x, 0), int(n)-1)
	y = min(max(y, 0), int(n)-1)
	return fmt.Sprintf("%d/%d/%d", zoom, x, y)
}
