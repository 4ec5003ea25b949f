package geo

import (
	"fmt"
	"math"

	"github.com/peterstace/simplefeatures/geom"
)

// BBox is a 2D CRS84 bounding box. MinX > MaxX means the box crosses the
// antimeridian (RFC 7946 §5.2).
type BBox struct {
	MinX, MinY, MaxX, MaxY float64
}

// BBoxFromSlice builds a box from 4 (2D) or 6 (3D: minx,miny,minz,maxx,maxy,maxz)
// numbers and checks it.
func BBoxFromSlice(v []float64) (BBox, error) {
	var b BBox
	switch len(v) {
	case 4:
		b = BBox{v[0], v[1], v[2], v[3]}
	case 6:
		b = BBox{v[0], v[1], v[3], v[4]}
	default:
		return BBox{}, fmt.Errorf("must have 4 or 6 numbers, got %d", len(v))
	}
	return b, b.Validate()
}

// Validate checks ranges: longitudes within [-180,180], latitudes within
// [-90,90] and miny <= maxy.
func (b BBox) Validate() error {
	for _, f := range []float64{b.MinX, b.MinY, b.MaxX, b.MaxY} {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("numbers must be finite")
		}
	}
	switch {
	case b.MinX < -180 || b.MinX > 180 || b.MaxX < -180 || b.MaxX > 180:
		return fmt.Errorf("longitudes must be within [-180, 180]")
	case b.MinY < -90 || b.MinY > 90 || b.MaxY < -90 || b.MaxY > 90:
		return fmt.Errorf("latitudes must be within [-90, 90]")
	case b.MinY > b.MaxY:
		return fmt.Errorf("miny (%g) is greater than maxy (%g)", b.MinY, b.MaxY)
	}
	return nil
}

// CrossesAntimeridian reports whether the box wraps across 180°.
func (b BBox) CrossesAntimeridian() bool { return b.MinX > b.MaxX }

// Parts returns the box as one or two boxes that do not cross the
// antimeridian.
func (b BBox) Parts() []BBox {
	if !b.CrossesAntimeridian() {
		return []BBox{b}
	}
	return []BBox{{b.MinX, b.MinY, 180, b.MaxY}, {-180, b.MinY, b.MaxX, b.MaxY}}
}

// Geometry returns the box as a polygon, or a multipolygon of its two parts
// when it crosses the antimeridian. A degenerate box becomes a point or line.
func (b BBox) Geometry() geom.Geometry {
	parts := b.Parts()
	if len(parts) == 1 {
		return geom.NewEnvelope(geom.XY{X: b.MinX, Y: b.MinY}, geom.XY{X: b.MaxX, Y: b.MaxY}).AsGeometry()
	}
	polys := make([]geom.Polygon, 0, 2)
	var others []geom.Geometry
	for _, p := range parts {
		g := geom.NewEnvelope(geom.XY{X: p.MinX, Y: p.MinY}, geom.XY{X: p.MaxX, Y: p.MaxY}).AsGeometry()
		if poly, ok := g.AsPolygon(); ok {
			polys = append(polys, poly)
		} else {
			others = append(others, g)
		}
	}
	if len(others) == 0 {
		return geom.NewMultiPolygon(polys).AsGeometry()
	}
	for _, p := range polys {
		others = append(others, p.AsGeometry())
	}
	return geom.NewGeometryCollection(others).AsGeometry()
}

// Covers reports whether the box (which may cross the antimeridian) covers
// the non-crossing box o.
func (b BBox) Covers(o BBox) bool {
	for _, p := range b.Parts() {
		if p.MinX <= o.MinX && o.MaxX <= p.MaxX && p.MinY <= o.MinY && o.MaxY <= p.MaxY {
			return true
		}
	}
	return false
}

// Intersects reports whether two boxes (either may cross) overlap.
func (b BBox) Intersects(o BBox) bool {
	for _, p := range b.Parts() {
		for _, q := range o.Parts() {
			if p.MinX <= q.MaxX && q.MinX <= p.MaxX && p.MinY <= q.MaxY && q.MinY <= p.MaxY {
				return true
			}
		}
	}
	return false
}

// Slice returns the box as 4 numbers.
func (b BBox) Slice() []float64 { return []float64{b.MinX, b.MinY, b.MaxX, b.MaxY} }

// EnvelopeBBox returns the bounds of a geometry's envelope.
func EnvelopeBBox(g geom.Geometry) (BBox, bool) {
	lo, hi, ok := g.Envelope().MinMaxXYs()
	if !ok {
		return BBox{}, false
	}
	return BBox{lo.X, lo.Y, hi.X, hi.Y}, true
}
