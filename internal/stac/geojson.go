package stac

import (
	"strconv"
	"strings"

	"github.com/peterstace/simplefeatures/geom"
)

// geoJSONHead reads the "type" and "coordinates" members of a GeoJSON
// object in one pass, without decoding it. plain is false when
// encoding/json might read them differently (invalid JSON, a member name
// with escapes, or one matching type, coordinates or geometries only in
// another case, or a type that is not a string), and the caller decodes
// raw with encoding/json then. A missing type is "", as encoding/json
// leaves it.
func geoJSONHead(raw []byte) (typ string, coords []byte, plain bool) {
	var buf [8]member
	ms, ok := objectMembers(raw, buf[:0])
	if !ok {
		return "", nil, false
	}
	var t []byte
	for _, m := range ms {
		switch {
		case m.key == "type":
			t = m.value
		case m.key == "coordinates":
			coords = m.value
		case strings.IndexByte(m.key, '\\') >= 0, strings.EqualFold(m.key, "type"),
			strings.EqualFold(m.key, "coordinates"), strings.EqualFold(m.key, "geometries"):
			return "", nil, false
		}
	}
	if t == nil {
		return "", coords, true
	}
	typ, ok = unquote(t)
	return typ, coords, ok
}

// geoJSONCoordinates decodes the coordinates of the geometries STAC items
// nearly always have (a Point, Polygon or MultiPolygon whose positions all
// have 2, or all have 3, coordinates) without encoding/json, into what
// geom.UnmarshalGeoJSON (without validation) gives for them;
// FuzzFastGeoJSON checks that. ok is false for anything else (other types,
// empty or mixed positions), and the caller decodes the geometry with
// simplefeatures then.
func geoJSONCoordinates(typ string, coords []byte) (g geom.Geometry, ok bool) {
	var depth int
	switch typ {
	case "Point":
		depth = 1
	case "Polygon":
		depth = 3
	case "MultiPolygon":
		depth = 4
	default:
		return geom.Geometry{}, false
	}
	p := positions{b: coords}
	if !p.read(0, depth) || p.i != len(coords) {
		return geom.Geometry{}, false
	}
	ctype := geom.DimXY
	if p.dim == 3 {
		ctype = geom.DimXYZ
	}
	// p.counts lists, depth first, the length of every array above the
	// positions: the polygons of a multipolygon, the rings of a polygon,
	// the positions of a ring.
	counts, floats := p.counts, p.floats
	next := func() int { n := counts[0]; counts = counts[1:]; return n }
	take := func(n int) []float64 { f := floats[:n*p.dim]; floats = floats[n*p.dim:]; return f }
	polygon := func() geom.Polygon {
		rings := make([]geom.LineString, next())
		for i := range rings {
			rings[i] = geom.NewLineString(geom.NewSequence(take(next()), ctype))
		}
		return geom.NewPolygon(rings)
	}
	switch depth {
	case 1:
		c := geom.Coordinates{XY: geom.XY{X: floats[0], Y: floats[1]}, Type: ctype}
		if ctype == geom.DimXYZ {
			c.Z = floats[2]
		}
		return geom.NewPoint(c).AsGeometry(), true
	case 3:
		return polygon().AsGeometry(), true
	default:
		polys := make([]geom.Polygon, next())
		for i := range polys {
			polys[i] = polygon()
		}
		return geom.NewMultiPolygon(polys).AsGeometry(), true
	}
}

// positions reads nested arrays of positions: every array non-empty,
// every position of the same dimension, 2 or 3.
type positions struct {
	b      []byte
	i      int
	dim    int
	counts []int
	floats []float64
}

// read reads an array nested depth deep (1: a position) at p.i.
func (p *positions) read(level, depth int) bool {
	b := p.b
	p.i = skipSpace(b, p.i)
	if p.i >= len(b) || b[p.i] != '[' {
		return false
	}
	p.i++
	at := -1
	if level < depth-1 {
		at = len(p.counts)
		p.counts = append(p.counts, 0)
	}
	n := 0
	for {
		p.i = skipSpace(b, p.i)
		if level == depth-1 {
			if !p.number() {
				return false
			}
		} else if !p.read(level+1, depth) {
			return false
		}
		n++
		p.i = skipSpace(b, p.i)
		if p.i >= len(b) {
			return false
		}
		if b[p.i] == ']' {
			p.i++
			break
		}
		if b[p.i] != ',' {
			return false
		}
		p.i++
	}
	switch {
	case at >= 0:
		p.counts[at] = n
	case n != 2 && n != 3, p.dim != 0 && n != p.dim:
		return false
	default:
		p.dim = n
	}
	return true
}

func (p *positions) number() bool {
	if p.i >= len(p.b) {
		return false
	}
	v := validator{b: p.b}
	end := v.number(p.i)
	if end < 0 {
		return false
	}
	f, err := strconv.ParseFloat(string(p.b[p.i:end]), 64)
	if err != nil {
		return false
	}
	p.floats = append(p.floats, f)
	p.i = end
	return true
}
