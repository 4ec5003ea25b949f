package tiles

import (
	"math"
	"strconv"
	"strings"
)

// The catalog is searched in CRS84, so a mosaic window in another CRS
// needs its footprint in longitude/latitude. The built-in tile matrix sets
// use few CRSs; their inverse projections are written out here (pure Go,
// no GDAL call per tile) and the window's edges are densified, since a
// projected rectangle is curved in longitude/latitude.

// WGS84 and GRS80 ellipsoids (semi-major axis, flattening).
const (
	wgs84A, wgs84F = 6378137.0, 1 / 298.257223563
	grs80A, grs80F = 6378137.0, 1 / 298.257222101
)

// inverseProjection returns the x/y → longitude/latitude (degrees)
// function of srs, for EPSG:3857, the UTM zones on WGS84 (EPSG:326zz
// north, 327zz south) and ETRS89-LAEA Europe (EPSG:3035); ok is false for
// other CRSs.
func inverseProjection(srs string) (inv func(x, y float64) (float64, float64), ok bool) {
	code, err := strconv.Atoi(strings.TrimPrefix(srs, "EPSG:"))
	if err != nil || !strings.HasPrefix(srs, "EPSG:") {
		return nil, false
	}
	switch {
	case code == 3857:
		const r = wgs84A
		return func(x, y float64) (float64, float64) {
			return x / r * 180 / math.Pi, math.Atan(math.Sinh(y/r)) * 180 / math.Pi
		}, true
	case code > 32600 && code <= 32660:
		return utmInverse(code-32600, false), true
	case code > 32700 && code <= 32760:
		return utmInverse(code-32700, true), true
	case code == 3035:
		return laeaInverse(grs80A, grs80F, 52, 10, 4321000, 3210000), true
	}
	return nil, false
}

// utmInverse is the inverse transverse Mercator of a UTM zone on WGS84
// (Krüger's series in the third flattening, to order n³: sub-millimetre
// within a zone).
func utmInverse(zone int, south bool) func(x, y float64) (float64, float64) {
	const k0, e0 = 0.9996, 500000.0
	n0 := 0.0
	if south {
		n0 = 10000000
	}
	n := wgs84F / (2 - wgs84F)
	a := wgs84A / (1 + n) * (1 + n*n/4 + n*n*n*n/64)
	beta := [3]float64{n/2 - 2*n*n/3 + 37*n*n*n/96, n*n/48 + n*n*n/15, 17 * n * n * n / 480}
	delta := [3]float64{2*n - 2*n*n/3 - 2*n*n*n, 7*n*n/3 - 8*n*n*n/5, 56 * n * n * n / 15}
	lon0 := float64(zone*6 - 183)
	return func(x, y float64) (float64, float64) {
		xi := (y - n0) / (k0 * a)
		eta := (x - e0) / (k0 * a)
		xi1, eta1 := xi, eta
		for j, b := range beta {
			k := 2 * float64(j+1)
			xi1 -= b * math.Sin(k*xi) * math.Cosh(k*eta)
			eta1 -= b * math.Cos(k*xi) * math.Sinh(k*eta)
		}
		chi := math.Asin(math.Sin(xi1) / math.Cosh(eta1))
		lat := chi
		for j, d := range delta {
			lat += d * math.Sin(2*float64(j+1)*chi)
		}
		lon := lon0 + math.Atan2(math.Sinh(eta1), math.Cos(xi1))*180/math.Pi
		return lon, lat * 180 / math.Pi
	}
}

// laeaInverse is the inverse ellipsoidal Lambert azimuthal equal-area
// projection (oblique aspect) centred on lat0, lon0 with false easting and
// northing fe, fn (Snyder, Map Projections: A Working Manual, §24).
func laeaInverse(a, f, lat0, lon0, fe, fn float64) func(x, y float64) (float64, float64) {
	e2 := 2*f - f*f
	e := math.Sqrt(e2)
	q := func(phi float64) float64 {
		s := math.Sin(phi)
		return (1 - e2) * (s/(1-e2*s*s) - math.Log((1-e*s)/(1+e*s))/(2*e))
	}
	qp := q(math.Pi / 2)
	phi1 := lat0 * math.Pi / 180
	beta1 := math.Asin(q(phi1) / qp)
	rq := a * math.Sqrt(qp/2)
	s1 := math.Sin(phi1)
	d := a * math.Cos(phi1) / math.Sqrt(1-e2*s1*s1) / (rq * math.Cos(beta1))
	// authalic latitude → geodetic latitude series
	c2 := e2/3 + 31*e2*e2/180 + 517*e2*e2*e2/5040
	c4 := 23*e2*e2/360 + 251*e2*e2*e2/3780
	c6 := 761 * e2 * e2 * e2 / 45360
	return func(x, y float64) (float64, float64) {
		x, y = x-fe, y-fn
		rho := math.Hypot(x/d, d*y)
		if rho == 0 {
			return lon0, lat0
		}
		c := 2 * math.Asin(math.Min(1, rho/(2*rq)))
		beta := math.Asin(math.Cos(c)*math.Sin(beta1) + d*y*math.Sin(c)*math.Cos(beta1)/rho)
		lon := lon0 + math.Atan2(x*math.Sin(c), d*rho*math.Cos(beta1)*math.Cos(c)-d*d*y*math.Sin(beta1)*math.Sin(c))*180/math.Pi
		lat := beta + c2*math.Sin(2*beta) + c4*math.Sin(4*beta) + c6*math.Sin(6*beta)
		return lon, lat * 180 / math.Pi
	}
}

// densifiedBounds maps the edges of b (x/y order) through inv, n points
// per edge plus the centre, and returns the longitude/latitude box of the
// points that map to finite values; ok is false when none does.
func densifiedBounds(b [4]float64, inv func(x, y float64) (float64, float64)) (g [4]float64, ok bool) {
	const n = 16
	g = [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	add := func(x, y float64) {
		lon, lat := inv(x, y)
		if math.IsNaN(lon) || math.IsNaN(lat) || math.IsInf(lon, 0) || math.IsInf(lat, 0) {
			return
		}
		g = [4]float64{math.Min(g[0], lon), math.Min(g[1], lat), math.Max(g[2], lon), math.Max(g[3], lat)}
		ok = true
	}
	for i := 0; i <= n; i++ {
		fx, fy := b[0]+(b[2]-b[0])*float64(i)/n, b[1]+(b[3]-b[1])*float64(i)/n
		add(fx, b[1])
		add(fx, b[3])
		add(b[0], fy)
		add(b[2], fy)
	}
	add((b[0]+b[2])/2, (b[1]+b[3])/2)
	return g, ok
}
